// The baseline for the fan-out benchmark: a minimal in-memory SSE broadcaster written the way most SSE servers
// are, with Node's http module and res.write. It stores nothing: a published event goes straight to every open
// response. Usage: node server.js <port>
//   GET  /events   subscribe
//   POST /publish  broadcast the request body as one event
'use strict';
const http = require('node:http');

const port = Number(process.argv[2] ?? 5090);
const clients = new Set();
let nextId = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/events')) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }

  if (req.method === 'POST' && req.url.startsWith('/publish')) {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const frame = `id: ${++nextId}\ndata: ${Buffer.concat(chunks).toString('utf8')}\n\n`;
      for (const client of clients) {
        client.write(frame);
      }
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: nextId, clients: clients.size }));
    });
    return;
  }

  res.writeHead(404);
  res.end();
});

// Heartbeats, as any production SSE server needs: one timer for all clients.
setInterval(() => {
  for (const client of clients) {
    client.write(': heartbeat\n\n');
  }
}, 15_000).unref();

server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.headersTimeout = 0;
server.maxConnections = Infinity;
server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
