// The demo page: a native EventSource on one stream, and a form that publishes to it.
// EventSource reconnects by itself after each bounded response, sending Last-Event-ID, so the list below should
// show every id once, in order, across reconnects.
//
// When the server requires tokens, EventSource cannot send one in a header, so the token goes into the bridge_token
// cookie (POST /api/auth/session) before connecting, and again whenever a fresh one is pasted: the stream ends when
// the old token expires, and the browser's reconnection carries the new cookie. A refused connection (an expired
// token, a full server) makes EventSource give up for good; the page then opens a new one after a growing delay,
// resuming after the last event it showed.

import { clearEvents, showEvent } from './event-list.js';

const $ = (id) => document.getElementById(id);
const namePattern = /^[A-Za-z0-9_.:-]{1,128}$/;
const maxRetryDelay = 30_000;

// ?stream=…&types=a,b&lastEventId=… fill the form, so a view can be shared or bookmarked.
const params = new URLSearchParams(location.search);
let initialCursor = params.get('lastEventId');

let source = null;
let connectedStream = null;
let generation = 0; // Bumped by disconnect(), so an open() still waiting for the session answer gives up.
let lastEventId = null;
let opens = 0;
let retryDelay = 1000;
let retryTimer = null;
let listening = new Set();

function setState(state) {
  const badge = $('state');
  badge.textContent = state;
  badge.className = `state ${state}`;
  document.body.dataset.state = state;
}

function note(text) {
  $('note').textContent = text;
}

function authorization() {
  const token = $('token').value.trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// Puts the token field's value in the cookie. False (with a note) when the server refuses it.
async function storeToken() {
  if (!$('token').value.trim()) {
    return true;
  }

  const response = await fetch('/api/auth/session', { method: 'POST', headers: authorization() });
  if (response.ok) {
    return true;
  }

  const problem = await response.json().catch(() => null);
  note(`Token refused (${response.status}): ${problem?.detail ?? problem?.title ?? 'no details'} Paste a fresh token.`);
  return false;
}

function connect(event) {
  event?.preventDefault();
  disconnect();
  const name = $('stream').value.trim();
  if (!namePattern.test(name)) {
    $('publish-result').textContent = 'A stream name is 1–128 letters, digits, - _ . or :';
    return;
  }

  connectedStream = name;
  lastEventId = initialCursor ?? ($('from-start').checked ? '0' : null);
  initialCursor = null;
  opens = 0;
  $('disconnect').disabled = false;
  open();
}

async function open() {
  const opening = generation;
  retryTimer = null;
  setState('connecting');
  const stored = await storeToken();
  if (opening !== generation) {
    return;
  }

  if (!stored) {
    setState('closed'); // Waits for a fresh token in the field.
    return;
  }

  const url = `/api/streams/${encodeURIComponent(connectedStream)}/events`;
  source = new EventSource(lastEventId === null ? url : `${url}?lastEventId=${encodeURIComponent(lastEventId)}`);
  source.addEventListener('open', () => {
    opens += 1;
    retryDelay = 1000;
    note('');
    $('reconnects').textContent = String(Math.max(0, opens - 1));
    setState('open');
  });
  source.addEventListener('error', () => {
    // CONNECTING means the browser is about to retry (after the server's retry: hint); CLOSED means it gave up.
    if (source.readyState !== EventSource.CLOSED) {
      setState('reconnecting');
      return;
    }

    source = null;
    setState('closed');
    note(`The server refused the connection (is a token needed, or a fresh one?); trying again in ${retryDelay / 1000} s.`);
    retryTimer = setTimeout(open, retryDelay);
    retryDelay = Math.min(retryDelay * 2, maxRetryDelay);
  });

  listening = new Set();
  listen('bridge.gap');
  for (const type of $('types').value.split(',')) {
    listen(type.trim() || 'message');
  }
}

function disconnect() {
  generation += 1;
  clearTimeout(retryTimer);
  retryTimer = null;
  source?.close();
  source = null;
  connectedStream = null;
  setState('closed');
  $('disconnect').disabled = true;
}

// A fresh token: into the cookie at once when connected; or, when waiting after a refusal, reconnect now.
async function tokenChanged() {
  if (source) {
    await storeToken();
  } else if (connectedStream) {
    clearTimeout(retryTimer);
    open();
  }
}

// EventSource only dispatches the event types a page has registered for.
function listen(type) {
  if (!source || listening.has(type)) {
    return;
  }

  listening.add(type);
  source.addEventListener(type, (event) => {
    lastEventId = event.lastEventId;
    showEvent(event);
  });
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
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Idempotency-Key': crypto.randomUUID(), ...authorization() },
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
$('token').addEventListener('change', tokenChanged);

connect();
