"""A WebSocket endpoint for h3relay's tests, on Python's `websockets` (Debian python3-websockets).

Listens on 127.0.0.1, port 0; prints "PORT <n>" once listening, then one "UPGRADE <json>" line per
handshake (path and request headers), "CLOSED <path> <code>" when a connection ends. Behaviour by path:
  /echo...        echoes every message; the message "close" makes the endpoint close (code 4000 "bye");
                  "abort" makes it drop the TCP connection without a close frame (RST)
  /forbidden      answers the handshake with 403 and a body (no upgrade)
Stops when stdin closes.
"""
import asyncio
import http
import json
import socket
import struct
import sys

import websockets


def log(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def process_request(path, headers):
    log("UPGRADE " + json.dumps({"path": path, "headers": {k.lower(): v for k, v in headers.raw_items()}}))
    if path.startswith("/forbidden"):
        return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"no websockets here\n"
    return None


async def handler(ws, path=None):
    path = path or ws.path
    try:
        async for message in ws:
            if message == "close":
                await ws.close(code=4000, reason="bye")
                break
            if message == "abort":
                sock = ws.transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                ws.transport.abort()
                break
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    log("CLOSED %s %s" % (path, ws.close_code))


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, process_request=process_request,
                                max_size=2 ** 22, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        log("PORT %d" % port)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
