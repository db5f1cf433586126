// The list of received events and its counters, shared by the demo page and the fetch() example.
// Each item shows the id's number (its epoch, which names the stream's history, in a tooltip), type, time received and
// data; when known, its stream and whether it was replayed or arrived live; a bridge.gap notice is highlighted and
// explained.

const $ = (id) => document.getElementById(id);
let received = 0;

export function showEvent({ lastEventId, type, data }, { stream = null, replayed = null } = {}) {
  received += 1;
  $('received').textContent = String(received);
  $('last-id').textContent = lastEventId || '—';

  const [number, epoch = ''] = lastEventId.split('.');
  const item = document.createElement('li');
  item.dataset.id = number;
  item.dataset.epoch = epoch;
  item.dataset.type = type;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const id = tag('id', `#${number}`);
  id.title = epoch ? `Event ${number} of epoch ${epoch}` : `Event ${number}`;
  meta.append(id, tag('type', type));
  if (stream) {
    item.dataset.stream = stream;
    meta.append(tag('stream', stream));
  }

  if (replayed !== null) {
    item.dataset.origin = replayed ? 'replay' : 'live';
    meta.append(tag(`origin ${item.dataset.origin}`, replayed ? 'replayed' : 'live'));
  }

  meta.append(tag('time', new Date().toLocaleTimeString()));
  const body = document.createElement('pre');
  body.className = 'data';
  body.textContent = data;
  item.append(meta, body);

  if (type === 'bridge.gap') {
    item.classList.add('gap');
    const notice = document.createElement('p');
    notice.className = 'notice';
    try {
      const gap = JSON.parse(data);
      const kept = gap.oldestKept ? ` The oldest event still kept is ${gap.oldestKept}.` : '';
      notice.textContent = `Gap: asked for "${gap.requested}" (${gap.reason}); resuming after event ${gap.resumeAfter}.${kept}`;
    } catch {
      notice.textContent = 'Gap: some events could not be delivered.';
    }
    item.prepend(notice);
  }

  $('events').prepend(item);
}

export function clearEvents() {
  $('events').replaceChildren();
  received = 0;
  $('received').textContent = '0';
}

function tag(className, text) {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
}
