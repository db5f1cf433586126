// The demo page: a native EventSource on one stream, and a form that publishes to it.
// EventSource reconnects by itself after each bounded response, sending Last-Event-ID, so the list below should
// show every id once, in order, across reconnects.

const $ = (id) => document.getElementById(id);
const namePattern = /^[A-Za-z0-9_.:-]{1,128}$/;

let source = null;
let opens = 0;
let received = 0;
let listening = new Set();

function streamUrl(stream, fromStart) {
  const url = `/api/streams/${encodeURIComponent(stream)}/events`;
  return fromStart ? `${url}?lastEventId=0` : url;
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
  source.addEventListener(type, show);
}

function show(event) {
  received += 1;
  $('received').textContent = String(received);
  $('last-id').textContent = event.lastEventId || '—';

  const item = document.createElement('li');
  item.dataset.id = event.lastEventId;
  item.dataset.type = event.type;
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.append(
    tag('id', `#${event.lastEventId}`),
    tag('type', event.type),
    tag('time', new Date().toLocaleTimeString()));
  const data = document.createElement('pre');
  data.className = 'data';
  data.textContent = event.data;
  item.append(meta, data);

  if (event.type === 'bridge.gap') {
    item.classList.add('gap');
    const notice = document.createElement('p');
    notice.className = 'notice';
    try {
      const gap = JSON.parse(event.data);
      notice.textContent = `Gap: asked for "${gap.requested}" (${gap.reason}); resuming after event ${gap.resumeAfter}.`;
    } catch {
      notice.textContent = 'Gap: some events could not be delivered.';
    }
    item.prepend(notice);
  }

  $('events').prepend(item);
}

function tag(className, text) {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
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

$('subscribe-form').addEventListener('submit', connect);
$('disconnect').addEventListener('click', disconnect);
$('publish-form').addEventListener('submit', publish);
$('clear').addEventListener('click', () => {
  $('events').replaceChildren();
  received = 0;
  $('received').textContent = '0';
});

connect();
