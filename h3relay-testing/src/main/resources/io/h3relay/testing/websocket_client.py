"""A WebSocket client for h3relay's tests, on Python's `websockets` (Debian python3-websockets).

Usage: websocket_client.py URL COUNT [CA_FILE] [wait-close]
Sends COUNT text messages one at a time, checks each echo, then closes normally (code 1000) and prints
"OK <count> <close code>"; anything else ends with a non-zero exit and the reason on stderr.
With "wait-close" it does not close after the echoes but waits (up to 30 s) for the other side to, and
prints "CLOSED <code> <reason>" (1006 when the connection ended without a Close frame).
"""
import asyncio
import ssl
import sys

import websockets


async def main(url, count, ca, wait_close):
    context = None
    if url.startswith("wss:"):
        context = ssl.create_default_context(cafile=ca)
    async with websockets.connect(url, ssl=context, compression=None, open_timeout=10) as ws:
        for i in range(count):
            message = "message %d %s" % (i, "x" * (i % 50))
            await ws.send(message)
            echo = await asyncio.wait_for(ws.recv(), 10)
            if echo != message:
                raise SystemExit("echo %r != %r" % (echo, message))
        if wait_close:
            try:
                await asyncio.wait_for(ws.recv(), 30)
                raise SystemExit("a message instead of the close")
            except websockets.ConnectionClosed:
                pass
            await asyncio.wait_for(ws.wait_closed(), 30)
            print("CLOSED %s %s" % (ws.close_code, ws.close_reason), flush=True)
            return
        await ws.close()
        print("OK %d %s" % (count, ws.close_code), flush=True)


args = [a for a in sys.argv[3:] if a != "wait-close"]
asyncio.run(main(sys.argv[1], int(sys.argv[2]), args[0] if args else None, "wait-close" in sys.argv[3:]))
