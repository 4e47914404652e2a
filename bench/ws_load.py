"""bench/ws_load.py: WebSocket echo round trips, for bench/websocket.sh (Debian python3-websockets).

Usage: ws_load.py URL SESSIONS SECONDS [SIZE]
Opens SESSIONS WebSockets to URL, then for SECONDS each session sends a SIZE-byte text message and waits
for its echo, over and over (one message in flight per session). Prints one JSON line: messages
echoed, seconds measured, messages/s, round-trip p50/p99 in ms, errors. Connection setup is not measured.
"""
import asyncio
import json
import sys
import time

import websockets


async def session(url, deadline, size, rtts, errors, ready, go):
    try:
        async with websockets.connect(url, compression=None, max_size=None, open_timeout=20) as ws:
            ready.append(1)
            await go.wait()
            message = "x" * size
            while time.monotonic() < deadline[0]:
                t0 = time.perf_counter()
                await ws.send(message)
                echo = await ws.recv()
                if len(echo) != size:
                    errors.append("short echo")
                    return
                rtts.append(time.perf_counter() - t0)
    except Exception as e:  # counted, not raised: one failed session must not hide the others' numbers
        errors.append(repr(e))


async def main(url, sessions, seconds, size):
    rtts, errors, ready = [], [], []
    go = asyncio.Event()
    deadline = [float("inf")]
    tasks = [asyncio.create_task(session(url, deadline, size, rtts, errors, ready, go)) for _ in range(sessions)]
    for _ in range(400):
        if len(ready) + len(errors) >= sessions:
            break
        await asyncio.sleep(0.05)
    start = time.monotonic()
    deadline[0] = start + seconds
    go.set()
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    rtts.sort()
    pct = lambda p: round(rtts[min(len(rtts) - 1, int(p * len(rtts)))] * 1000, 3) if rtts else None
    print(json.dumps({"messages": len(rtts), "seconds": round(elapsed, 3),
                      "msgs_per_s": round(len(rtts) / elapsed, 1) if elapsed > 0 else 0,
                      "p50_ms": pct(0.50), "p99_ms": pct(0.99), "errors": len(errors),
                      "first_error": errors[0] if errors else None}), flush=True)


asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 32))
