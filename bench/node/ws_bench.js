// WebSocket echo round trips on the `ws` library (npm), for bench/websocket.sh.
// Usage: node ws_bench.js URL SESSIONS SECONDS [MESSAGE_BYTES] [CA_FILE]
// Opens SESSIONS WebSockets; once all are open, each sends a message, waits for its echo, sends the next,
// for SECONDS (one message in flight per session; connection setup is not measured). Prints one JSON
// line as bench/ws_load.py does: messages, seconds, msgs_per_s, p50_ms, p99_ms, errors, first_error.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const [url, sessionsArg, secondsArg, bytesArg, caFile] = process.argv.slice(2);
const sessions = parseInt(sessionsArg, 10);
const seconds = parseFloat(secondsArg);
const payload = Buffer.alloc(parseInt(bytesArg || '64', 10), 'x');
const options = { ca: caFile ? fs.readFileSync(caFile) : undefined, perMessageDeflate: false, rejectUnauthorized: !!caFile };
const latencies = [];
let errors = 0;
let firstError = null;
let open = 0;
let started = 0n;
let deadline = 0n;
const sockets = [];

function runSession(ws) {
  let sentAt = 0n;
  const send = () => { sentAt = process.hrtime.bigint(); ws.send(payload); };
  ws.on('message', () => {
    const now = process.hrtime.bigint();
    latencies.push(Number(now - sentAt) / 1000);
    if (now < deadline) send(); else ws.close(1000);
  });
  return send;
}

const senders = [];
for (let i = 0; i < sessions; i++) {
  const ws = new WebSocket(url, options);
  sockets.push(ws);
  const send = runSession(ws);
  ws.on('error', (e) => { errors++; if (!firstError) firstError = e.message; });
  ws.on('open', () => {
    senders.push(send);
    if (++open === sessions) {
      // all sessions up: the measured window starts now, for all of them together
      started = process.hrtime.bigint();
      deadline = started + BigInt(Math.round(seconds * 1e9));
      senders.forEach((s) => s());
    }
  });
}

let closed = 0;
sockets.forEach((ws) => ws.on('close', () => {
  if (++closed < sessions) return;
  const elapsed = Number(process.hrtime.bigint() - (started || process.hrtime.bigint())) / 1e9;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies.length
    ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]) / 1000 : null;
  console.log(JSON.stringify({ messages: latencies.length, seconds: Math.round(elapsed * 1000) / 1000,
    msgs_per_s: elapsed > 0 ? Math.round(latencies.length * 10 / elapsed) / 10 : 0, p50_ms: q(0.5), p99_ms: q(0.99),
    errors, first_error: firstError }));
  process.exit(0);
}));
setTimeout(() => {
  console.log(JSON.stringify({ messages: latencies.length, seconds: seconds, msgs_per_s: 0, p50_ms: null, p99_ms: null,
    errors: errors + 1, first_error: 'timeout: ' + open + ' of ' + sessions + ' sessions open' }));
  process.exit(2);
},
  (seconds + 30) * 1000);
