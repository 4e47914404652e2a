"""A WebSocket client for h3relay's tests, on Python's `websockets` (Debian python3-websockets).

Usage: websocket_client.py URL COUNT [CA_FILE]
Sends COUNT text messages one at a time, checks each echo, then closes normally (code 1000) and prints
"OK <count> <close code>"; anything else ends with a non-zero exit and the reason on stderr.
"""
import asyncio
import ssl
import sys

import websockets


async def main(url, count, ca):
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
        await ws.close()
        print("OK %d %s" % (count, ws.close_code), flush=True)


asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
