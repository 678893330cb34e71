"""An echo server on aiohttp (Debian: python3-aiohttp), for interop tests.

Usage: python3 python_aiohttp.py [PORT] [HEARTBEAT_SECONDS]
Prints the port on its first line of output once it listens on 127.0.0.1.
Text and binary frames are echoed as received. A text frame 'close:CODE' makes it close
the connection with that code. With HEARTBEAT_SECONDS, aiohttp sends protocol pings at
that period and closes a connection whose pong is late.
"""
import asyncio
import sys

from aiohttp import WSMsgType, web


async def echo(request):
    heartbeat = float(sys.argv[2]) if len(sys.argv) > 2 else None
    ws = web.WebSocketResponse(heartbeat=heartbeat)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            if msg.data.startswith("close:"):
                await ws.close(code=int(msg.data[6:]), message=b"asked")
                break
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def main():
    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


asyncio.run(main())
