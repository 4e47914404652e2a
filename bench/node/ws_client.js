// A WebSocket client on the `ws` library (npm), for h3relay's tests.
// Usage: node ws_client.js URL COUNT [CA_FILE]
// Sends COUNT text messages one at a time, checks each echo, closes with 1000 and prints
// "OK <count> <close code>"; anything else exits non-zero with the reason.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const [url, countArg, caFile] = process.argv.slice(2);
const count = parseInt(countArg, 10);
const ws = new WebSocket(url, { ca: caFile ? fs.readFileSync(caFile) : undefined, perMessageDeflate: false });
let n = 0;
const timer = setTimeout(() => { console.log('timeout after ' + n); process.exit(2); }, 30000);
const message = (i) => 'ws message ' + i + ' ' + 'x'.repeat(i % 50);
ws.on('open', () => ws.send(message(0)));
ws.on('message', (data) => {
  if (data.toString() !== message(n)) { console.log('bad echo ' + data); process.exit(3); }
  n++;
  if (n < count) ws.send(message(n)); else ws.close(1000, 'done');
});
ws.on('close', (code) => { clearTimeout(timer); console.log('OK ' + n + ' ' + code); });
ws.on('error', (e) => { console.log('error ' + e.message); process.exit(4); });
