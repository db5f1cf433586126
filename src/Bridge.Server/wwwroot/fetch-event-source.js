// An SSE client on fetch(), for callers that must send headers (an Authorization header, say), which EventSource
// cannot. It follows the WHATWG parsing rules: lines end with CR, LF or CRLF; a blank line dispatches; the last event
// id is updated at every dispatch, even one without data; `retry:` sets the reconnection delay; an event cut off by
// the end of a response is dropped. When a response ends it reconnects after that delay, sending Last-Event-ID.
// A 429 or 5xx answer is retried after its Retry-After (or that delay); other refusals are final, as in EventSource.
// `headers` may be a function, called before every connection, so a reconnection can carry a fresh token:
//
//   const source = new FetchEventSource(url, { headers: async () => ({ Authorization: `Bearer ${await getToken()}` }) });
//   source.onevent = ({ type, data, lastEventId }) => { ... };
//   source.onstate = (state) => { ... };   // 'connecting' | 'open' | 'reconnecting' | 'closed'
//   source.oncomment = (text) => { ... };  // comment lines, which EventSource hides: Bridge writes "closes-in <s>"
//                                          // at the start of a response and "live" where replay ends
//   source.start();  ...  source.stop();

export class FetchEventSource {
  #url;
  #headers;
  #lastEventId;
  #retryMilliseconds = 3000;
  #controller = null;
  #stopped = true;

  onevent = null;
  onstate = null;
  onfailure = null; // (status, problem) when the server refuses the subscription; no reconnection follows
  oncomment = null;

  constructor(url, { headers = {}, lastEventId = '' } = {}) {
    this.#url = url;
    this.#headers = headers;
    this.#lastEventId = lastEventId;
  }

  get lastEventId() {
    return this.#lastEventId;
  }

  get retryMilliseconds() {
    return this.#retryMilliseconds;
  }

  start() {
    if (!this.#stopped) {
      return;
    }

    this.#stopped = false;
    this.#run();
  }

  stop() {
    this.#stopped = true;
    this.#controller?.abort();
    this.#state('closed');
  }

  async #run() {
    let first = true;
    while (!this.#stopped) {
      this.#state(first ? 'connecting' : 'reconnecting');
      first = false;
      let delay = null;
      try {
        this.#controller = new AbortController();
        const extra = typeof this.#headers === 'function' ? await this.#headers() : this.#headers;
        const headers = { Accept: 'text/event-stream', ...extra };
        if (this.#lastEventId) {
          headers['Last-Event-ID'] = this.#lastEventId;
        }

        const response = await fetch(this.#url, { headers, cache: 'no-store', signal: this.#controller.signal });
        const isStream = (response.headers.get('Content-Type') ?? '').startsWith('text/event-stream');
        if (response.status === 429 || response.status >= 500) {
          // The server is full or storage is unavailable: come back when it says to.
          response.body?.cancel();
          delay = Math.max(this.#retryMilliseconds, 1000 * (Number(response.headers.get('Retry-After')) || 0));
        } else if (!response.ok || response.status === 204 || !isStream) {
          // Like EventSource, any other refusal is final. Bridge's refusals carry problem details saying why.
          const problem = await response.json().catch(() => null);
          this.stop();
          this.onfailure?.(response.status, problem);
          return;
        } else {
          this.#state('open');
          await this.#read(response.body);
        }
      } catch (error) {
        if (this.#stopped) {
          return;
        }
        // A network error: reconnect after the delay, as EventSource does.
      }

      if (!this.#stopped) {
        await new Promise((resolve) => setTimeout(resolve, delay ?? this.#retryMilliseconds));
      }
    }
  }

  async #read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    const event = { type: '', data: [], id: this.#lastEventId };
    let buffer = '';
    let atStart = true;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return; // An event not yet ended by a blank line is dropped, as the specification requires.
      }

      buffer += value;
      if (atStart) {
        buffer = buffer.replace(/^\uFEFF/, '');
        atStart = false;
      }

      let lineStart = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== '\r' && c !== '\n') {
          continue;
        }

        if (c === '\r' && i + 1 === buffer.length) {
          break; // A CR at the end of a chunk may be the first half of a CRLF: wait for the next chunk.
        }

        this.#line(buffer.slice(lineStart, i), event);
        if (c === '\r' && buffer[i + 1] === '\n') {
          i++;
        }

        lineStart = i + 1;
      }

      buffer = buffer.slice(lineStart);
    }
  }

  #line(line, event) {
    if (line === '') {
      this.#lastEventId = event.id;
      if (event.data.length > 0) {
        this.onevent?.({ type: event.type || 'message', data: event.data.join('\n'), lastEventId: event.id });
      }

      event.type = '';
      event.data = [];
      return;
    }

    if (line.startsWith(':')) {
      this.oncomment?.(line.slice(1).trimStart()); // A comment, such as a heartbeat.
      return;
    }

    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }

    switch (field) {
      case 'event':
        event.type = value;
        break;
      case 'data':
        event.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) {
          event.id = value;
        }
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) {
          this.#retryMilliseconds = Number(value);
        }
        break;
      default:
        break; // Unknown fields are ignored.
    }
  }

  #state(state) {
    this.onstate?.(state);
  }
}
