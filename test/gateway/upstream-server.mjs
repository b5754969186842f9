// The lab's "internet": a web server in the upstream namespace.
//   GET  /bytes/N  -> exactly N bytes (zeros), N up to 1 GiB
//   POST /sink     -> reads the whole body, answers with the number of bytes received
//   GET  /         -> "ok"
// Usage: node upstream-server.mjs HOST PORT...  (the lab uses 80, which OpenNDS intercepts for
// unpaid clients, and 8080, which it rejects)
import { createServer } from 'node:http';

const [host = '198.19.0.2', ...portTexts] = process.argv.slice(2);
const MAX_BYTES = 1024 ** 3;
const CHUNK = Buffer.alloc(64 * 1024);

function sendBytes(res, total) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  let left = total;
  const pump = () => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const bytes = /^\/bytes\/(\d+)$/.exec(url.pathname);
  if (req.method === 'GET' && bytes) {
    const total = Number(bytes[1]);
    if (!Number.isSafeInteger(total) || total > MAX_BYTES) {
      res.writeHead(400).end('too many bytes\n');
      return;
    }
    sendBytes(res, total);
    return;
  }
  if (req.method === 'POST' && url.pathname === '/sink') {
    let received = 0;
    req.on('data', (chunk) => (received += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${received}\n`));
    return;
  }
  if (req.method === 'GET' && url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  res.writeHead(404).end('not found\n');
}

const servers = (portTexts.length > 0 ? portTexts : ['80']).map((portText) => {
  const server = createServer(handle);
  server.listen(Number(portText), host, () => console.log(`upstream listening on ${host}:${portText}`));
  return server;
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    for (const server of servers) server.closeAllConnections();
    process.exit(0);
  });
}
