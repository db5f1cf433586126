// The fetch() example page: every event type is shown (no listener list needed, unlike EventSource).
import { showEvent } from './event-list.js';
import { FetchEventSource } from './fetch-event-source.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let source = null;
let reconnects = 0;

function setState(state) {
  $('state').textContent = state;
  $('state').className = `state ${state}`;
  document.body.dataset.state = state;
  if (state === 'reconnecting') {
    reconnects += 1;
    $('reconnects').textContent = String(reconnects);
  }
}

function connect(event) {
  event?.preventDefault();
  source?.stop();
  $('failure').textContent = '';
  const stream = $('stream').value.trim();
  const cursor = params.get('lastEventId') ?? ($('from-start').checked ? '0' : '');
  const url = `/api/streams/${encodeURIComponent(stream)}/events${cursor ? `?lastEventId=${encodeURIComponent(cursor)}` : ''}`;
  // Read the field at every connection, so a token pasted in while connected is used from the next reconnection on.
  const headers = () => {
    const authorization = $('authorization').value.trim();
    return authorization ? { Authorization: authorization } : {};
  };
  source = new FetchEventSource(url, { headers });
  source.onevent = showEvent;
  source.onstate = setState;
  source.onfailure = (status, problem) => {
    $('failure').textContent = `Refused (${status}): ${problem?.detail ?? problem?.title ?? 'no details'}`;
  };
  source.start();
  $('disconnect').disabled = false;
}

$('subscribe-form').addEventListener('submit', connect);
$('disconnect').addEventListener('click', () => {
  source?.stop();
  $('disconnect').disabled = true;
});

if (params.has('stream')) {
  $('stream').value = params.get('stream');
}

connect();
