"""An echo server on Python's `websockets` (Debian: python3-websockets), for interop tests.

Usage: python3 python_echo.py [PORT] [PING_INTERVAL_SECONDS]
Prints the port on its first line of output once it listens on 127.0.0.1.
With PING_INTERVAL_SECONDS, websockets sends protocol pings at that period and closes a
connection whose pong is late (its keepalive; the default is every 20 s).
A text frame 'close:CODE' makes it close the connection with that code.
"""
import asyncio
import sys

import websockets


async def echo(websocket, _path=None):
    async for message in websocket:
        if isinstance(message, str) and message.startswith("close:"):
            await websocket.close(int(message[6:]), "asked")
            return
        await websocket.send(message)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    ping = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    async with websockets.serve(echo, "127.0.0.1", port, ping_interval=ping, ping_timeout=ping) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


asyncio.run(main())
