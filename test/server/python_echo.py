"""An echo server on Python's `websockets` (Debian: python3-websockets), for interop tests.

Prints the port on its first line of output once it listens on 127.0.0.1.
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
    async with websockets.serve(echo, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


asyncio.run(main())
