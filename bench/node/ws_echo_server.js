// A WebSocket echo endpoint on the `ws` library (npm), for bench/websocket.sh.
// Usage: node ws_echo_server.js PORT   (0: any; prints "PORT <n>" once listening). Plain ws:// on 127.0.0.1.
'use strict';
const WebSocket = require('ws');

const server = new WebSocket.Server({ host: '127.0.0.1', port: parseInt(process.argv[2] || '0', 10), perMessageDeflate: false });
server.on('listening', () => console.log('PORT ' + server.address().port));
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
