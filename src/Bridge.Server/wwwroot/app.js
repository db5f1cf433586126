// The demo page: follows one or more streams, and publishes to them. The list shows every id once, in order, across
// the reconnection that follows each bounded response.
//
// Two clients:
// - By default the fetch() client (fetch-event-source.js) on one response for all the streams
//   (GET /api/events?stream=a&stream=b when there are several), which sees every event type and the server's
//   comments: "closes-in <s>" (the page counts down to the reconnection) and "live" (where replay ends, so replayed
//   events are marked). A bridge.stream event names the stream of the events after it. A token goes in the
//   Authorization header of every connection.
// - With ?client=eventsource (or ?types=…), the browser's native EventSource on the same URL, which dispatches only
//   the types a page listens for (plus bridge.stream, which names the stream of the events after it) and cannot send
//   headers: the token goes into the bridge_token cookie
//   (POST /api/auth/session) before connecting, and again whenever a fresh one is pasted; the stream ends when the
//   old token expires, and the browser's reconnection carries the new cookie. A refused connection (an expired
//   token, a full server) makes EventSource give up for good; the page then opens a new one after a growing delay,
//   resuming after the last event it showed.

import { clearEvents, showEvent } from './event-list.js';
import { FetchEventSource } from './fetch-event-source.js';

const $ = (id) => document.getElementById(id);
const namePattern = /^[A-Za-z0-9_.:-]{1,128}$/;
const maxRetryDelay = 30_000;

// ?stream=…&types=a,b&lastEventId=… fill the form, so a view can be shared or bookmarked.
const params = new URLSearchParams(location.search);
let initialCursor = params.get('lastEventId');
const native = params.get('client') === 'eventsource' || params.has('types');

let source = null;
let connectedStreams = null;
let namedStream = null; // The stream the last bridge.stream event named, on several streams.
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
  const names = $('stream').value.split(',').map((name) => name.trim()).filter((name) => name);
  if (names.length === 0 || !names.every((name) => namePattern.test(name))) {
    $('publish-result').textContent = 'A stream name is 1–128 letters, digits, - _ . or :; separate several with commas.';
    return;
  }

  lastEventId = initialCursor ?? ($('from-start').checked ? '0' : null);
  initialCursor = null;
  opens = 0;
  $('disconnect').disabled = false;
  if (native) {
    connectedStreams = names;
    open();
  } else {
    follow(names);
  }
}

// The fetch() client: one response for every stream, with one cursor that resumes them all.
let following = null;

function subscriptionUrl(names) {
  return names.length === 1
    ? `/api/streams/${encodeURIComponent(names[0])}/events`
    : `/api/events?${names.map((name) => `stream=${encodeURIComponent(name)}`).join('&')}`;
}

// On several streams an id is the cursor of all of them: "tag~n.epoch~n.epoch…", one position per stream in the
// ordinal order of the names (docs/api.md). The list shows each event's number in its own stream.
function ownId(cursor, names, stream) {
  const sorted = [...names].sort();
  return cursor.split('~')[sorted.indexOf(stream) + 1] ?? cursor;
}

function follow(names) {
  const url = subscriptionUrl(names);
  $('request').textContent = `GET ${url}`;
  const source = new FetchEventSource(url, { headers: authorization, lastEventId: lastEventId ?? '' });
  const state = { source, live: false, closesAt: null, state: 'connecting' };
  let stream = names[0];
  source.onstate = (next) => {
    state.state = next;
    if (next === 'open') {
      opens += 1;
      state.live = false;
      $('reconnects').textContent = String(Math.max(0, opens - 1));
      note('');
    } else if (next !== 'closed') {
      state.closesAt = null;
    }

    setState(next);
  };
  source.oncomment = (text) => {
    if (text === 'live') {
      state.live = true;
    } else if (text.startsWith('closes-in ')) {
      state.closesAt = Date.now() + 1000 * Number(text.slice('closes-in '.length));
    }
  };
  source.onevent = (event) => {
    if (event.type === 'bridge.stream') {
      stream = event.data;
    } else if (names.length > 1) {
      showEvent({ ...event, lastEventId: ownId(event.lastEventId, names, stream) }, { stream, replayed: !state.live });
    } else {
      showEvent(event, { replayed: !state.live });
    }
  };
  source.onfailure = (status, problem) => {
    note(`Refused (${status}): ${problem?.detail ?? problem?.title ?? 'no details'} Paste a fresh token and connect again.`);
  };
  following = state;
  source.start();
}

// The countdown to the next planned end of a response, and the reconnection that follows it.
function showCountdown() {
  if (following?.state === 'reconnecting') {
    $('countdown').textContent = 'Reconnecting: it resumes after the last event shown, so nothing is lost or repeated.';
  } else if (following?.closesAt) {
    const seconds = Math.max(0, Math.round((following.closesAt - Date.now()) / 1000));
    $('countdown').textContent = `The server closes this response in ${seconds} s, well within Azure's 230 s; the client then reconnects and resumes.`;
  } else {
    $('countdown').textContent = native ? 'EventSource hides when a response will close; the browser reconnects by itself.' : '';
  }
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

  const url = subscriptionUrl(connectedStreams);
  $('request').textContent = `GET ${url}`;
  const separator = url.includes('?') ? '&' : '?';
  source = new EventSource(lastEventId === null ? url : `${url}${separator}lastEventId=${encodeURIComponent(lastEventId)}`);
  source.addEventListener('bridge.stream', (event) => { namedStream = event.data; });
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
  connectedStreams = null;
  if (following) {
    following.source.onstate = null;
    following.source.stop();
    following = null;
  }

  setState('closed');
  $('disconnect').disabled = true;
}

// A fresh token: into the cookie at once when connected; or, when waiting after a refusal, reconnect now.
async function tokenChanged() {
  if (!native) {
    if (following?.state === 'closed') {
      connect(); // The subscription was refused; try again with the fresh token. An open one picks it up when it reconnects.
    }

    return;
  }

  if (source) {
    await storeToken();
  } else if (connectedStreams) {
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
    if (connectedStreams.length > 1) {
      showEvent({ type: event.type, data: event.data, lastEventId: ownId(event.lastEventId, connectedStreams, namedStream) }, { stream: namedStream });
    } else {
      showEvent(event);
    }
  });
}

async function publish(event) {
  event.preventDefault();
  const stream = $('stream').value.split(',')[0].trim();
  const type = $('publish-type').value.trim();
  const result = $('publish-result');
  const url = `/api/streams/${encodeURIComponent(stream)}/events${type ? `?type=${encodeURIComponent(type)}` : ''}`;
  if (native) {
    listen(type || 'message');
  }

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

// What this server and connection are: whether tokens are required, and whether streams share one connection.
async function describeServer() {
  try {
    const health = await (await fetch('/api/health', { cache: 'no-store' })).json();
    $('auth').textContent = health.auth === 'open' ? 'Open: no tokens (development only)' : 'Tokens required';
    $('auth').dataset.auth = health.auth;
  } catch {
    $('auth').textContent = 'unknown';
  }

  const stream = encodeURIComponent($('stream').value.split(',')[0].trim() || 'demo');
  $('shell-example').textContent = `curl -X POST --data-binary 'hello' '${location.origin}/api/streams/${stream}/events?type=greeting'`;
  const protocol = performance.getEntriesByType('navigation')[0]?.nextHopProtocol ?? '';
  $('protocol').textContent = protocol === 'h2' || protocol === 'h3'
    ? `${protocol === 'h2' ? 'HTTP/2' : 'HTTP/3'}: this page's requests share one connection`
    : 'HTTP/1.1: the streams share one response; a browser opens at most 6 connections per origin';
}

document.body.classList.toggle('native', native);
$('client').textContent = native ? 'native EventSource (only the types listed)' : 'fetch() client (every type)';
describeServer();
setInterval(showCountdown, 1000);
connect();
