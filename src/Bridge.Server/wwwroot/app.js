// The demo page: a native EventSource on one stream, and a form that publishes to it.
// EventSource reconnects by itself after each bounded response, sending Last-Event-ID, so the list below should
// show every id once, in order, across reconnects.

import { clearEvents, showEvent } from './event-list.js';

const $ = (id) => document.getElementById(id);
const namePattern = /^[A-Za-z0-9_.:-]{1,128}$/;

// ?stream=…&types=a,b&lastEventId=… fill the form, so a view can be shared or bookmarked. lastEventId is used for
// the first connection only; the browser sends Last-Event-ID on its own afterwards.
const params = new URLSearchParams(location.search);
let initialCursor = params.get('lastEventId');

let source = null;
let opens = 0;
let listening = new Set();

function streamUrl(stream, fromStart) {
  const url = `/api/streams/${encodeURIComponent(stream)}/events`;
  const cursor = initialCursor ?? (fromStart ? '0' : null);
  initialCursor = null;
  return cursor === null ? url : `${url}?lastEventId=${encodeURIComponent(cursor)}`;
}

function setState(state) {
  const badge = $('state');
  badge.textContent = state;
  badge.className = `state ${state}`;
  document.body.dataset.state = state;
}

function connect(event) {
  event?.preventDefault();
  disconnect();
  const stream = $('stream').value.trim();
  if (!namePattern.test(stream)) {
    setState('closed');
    $('publish-result').textContent = 'A stream name is 1–128 letters, digits, - _ . or :';
    return;
  }

  opens = 0;
  source = new EventSource(streamUrl(stream, $('from-start').checked));
  setState('connecting');
  source.addEventListener('open', () => {
    opens += 1;
    $('reconnects').textContent = String(Math.max(0, opens - 1));
    setState('open');
  });
  source.addEventListener('error', () => {
    // CONNECTING means the browser is about to retry (after the server's retry: hint); CLOSED means it gave up.
    setState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  });

  listening = new Set();
  listen('bridge.gap');
  for (const type of $('types').value.split(',')) {
    listen(type.trim() || 'message');
  }

  $('connect').disabled = false;
  $('disconnect').disabled = false;
}

function disconnect() {
  source?.close();
  source = null;
  setState('closed');
  $('disconnect').disabled = true;
}

// EventSource only dispatches the event types a page has registered for.
function listen(type) {
  if (!source || listening.has(type)) {
    return;
  }

  listening.add(type);
  source.addEventListener(type, showEvent);
}

async function publish(event) {
  event.preventDefault();
  const stream = $('stream').value.trim();
  const type = $('publish-type').value.trim();
  const result = $('publish-result');
  const url = `/api/streams/${encodeURIComponent(stream)}/events${type ? `?type=${encodeURIComponent(type)}` : ''}`;
  listen(type || 'message');
  result.textContent = 'Publishing…';
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Idempotency-Key': crypto.randomUUID() },
      body: $('publish-data').value,
    });
    const body = await response.json();
    result.textContent = response.ok
      ? `Stored as event ${body.id}.`
      : `Refused (${response.status}): ${body.detail ?? body.title}`;
  } catch (error) {
    result.textContent = `Could not reach the server: ${error.message}`;
  }
}

for (const [param, input] of [['stream', 'stream'], ['types', 'types']]) {
  if (params.has(param)) {
    $(input).value = params.get(param);
  }
}

$('subscribe-form').addEventListener('submit', connect);
$('disconnect').addEventListener('click', disconnect);
$('publish-form').addEventListener('submit', publish);
$('clear').addEventListener('click', clearEvents);

connect();
