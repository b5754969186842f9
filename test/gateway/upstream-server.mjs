// The lab's "internet": a web server in the upstream namespace.
//   GET  /bytes/N  -> exactly N bytes (zeros), N up to 1 GiB; ?rate=R sends at most R bytes/s
//                     (paced by the sender, so the client's socket buffers cannot run ahead)
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

const PACE_MS = 100;

function sendPaced(res, total, rate) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  const perPace = Math.max(1, Math.round((rate * PACE_MS) / 1000));
  let left = total;
  const timer = setInterval(() => {
    const piece = Buffer.alloc(Math.min(perPace, left));
    left -= piece.length;
    res.write(piece);
    if (left === 0) {
      clearInterval(timer);
      res.end();
    }
  }, PACE_MS);
  res.on('close', () => clearInterval(timer));
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
    const rate = Number(url.searchParams.get('rate') ?? 0);
    if (rate > 0) sendPaced(res, total, rate);
    else sendBytes(res, total);
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
