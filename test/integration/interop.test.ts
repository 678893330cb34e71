import { describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { startNginx, startPython, startServer } from '../server/index.js'
import { cleanup, connect, record, until } from './helpers'

const fast = { initialDelay: 50, maxDelay: 200, jitter: 'none' as const }

/** nginx as a WebSocket reverse proxy in front of `upstream`, with a short proxy_read_timeout. */
async function nginx(upstreamPort: number, readTimeout: string) {
  const proxy = await startNginx({ upstreams: [upstreamPort], readTimeout })
  cleanup(() => proxy.close())
  return proxy.url
}

describe('interop with nginx as a reverse proxy', () => {
  test('behind nginx, an idle connection is cut at proxy_read_timeout without a heartbeat and kept with one', async () => {
    const server = await startServer({ mode: 'echo' })
    cleanup(() => server.close())
    const url = await nginx(server.port, '1s')
    const idle = connect(url, { retry: fast })
    const kept = connect(url, { retry: fast, heartbeat: { interval: 300, timeout: 500 } })
    const idleLog = record(idle)
    const keptLog = record(kept)
    await until(idle, () => idleLog.includes('open:again'), 'nginx to cut the idle connection and the client to reconnect', 10_000)
    await until(idle, () => idleLog.filter((line) => line === 'open:again').length === 2, 'a second cut', 10_000)
    // By now the heartbeat connection has lived through two read timeouts.
    expect(keptLog).toEqual(['open'])
    expect(idleLog.slice(0, 4)).toEqual(['open', 'close:1006', 'reconnecting:1', 'open:again'])
    expect(kept.state.rtt).not.toBeNull()
  })
})

describe.each([
  { name: "Python's websockets", script: 'python_echo.py' as const },
  { name: 'aiohttp', script: 'python_aiohttp.py' as const },
])('interop with the $name server', ({ script }) => {
  /** The server with protocol pings every 200 ms (its own keepalive). */
  async function python() {
    const server = await startPython(script, { extraArgs: ['0.2'] })
    cleanup(() => server.close())
    return server
  }

  test('echoes JSON and binary, and its close codes reconnect or stop as documented', async () => {
    const server = await python()
    const socket = connect(server.url, { retry: fast })
    const log = record(socket)
    const messages: unknown[] = []
    const binary: ArrayBuffer[] = []
    socket.on('message', (m) => messages.push(m))
    socket.on('binary', (b) => binary.push(b as ArrayBuffer))
    const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251)
    socket.send({ hello: script })
    socket.send(new Uint8Array([7, 8, 9]))
    socket.send(big)
    await until(socket, () => messages.length === 1 && binary.length === 2, 'the echoes')
    expect(messages).toEqual([{ hello: script }])
    expect([...new Uint8Array(binary[0]!)]).toEqual([7, 8, 9])
    expect(Buffer.from(binary[1]!).equals(Buffer.from(big))).toBe(true)
    socket.sendRaw('close:4001')
    await until(socket, () => log.includes('open:again'), 'the reconnect after 4001')
    expect(socket.state.lastClose).toEqual({ code: 4001, reason: 'asked', wasClean: true })
    socket.sendRaw('close:4403')
    await until(socket, () => socket.state.status === 'closed', 'the fatal 4403')
    expect(log.filter((line) => !line.startsWith('error:'))).toEqual(['open', 'close:4001', 'reconnecting:1', 'open:again', 'close:4403:final'])
  })

  test('frames sent and delivered while it restarts are queued, arrive once in order after it is back, and deliveries resolve on its echo', async () => {
    const server = await python()
    const socket = connect<{ n: number }>(server.url, { retry: fast })
    const log = record(socket)
    const echoes: number[] = []
    socket.on('message', (m) => echoes.push(m.n))
    await until(socket, () => socket.state.status === 'open', 'open')
    await server.stop()
    await until(socket, () => socket.state.status !== 'open', 'the drop to be noticed')
    // One FIFO: sends and deliveries go out in call order; the echo of a delivery (same id) is its ack.
    const written = [1, 3, 5].map((n) => socket.send({ n }))
    const delivered = [2, 4].map((n) => socket.deliver({ n }))
    expect(written).toEqual([false, false, false])
    await server.start()
    await until(socket, () => echoes.length === 3 && socket.state.unacked === 0, 'the queued frames echoed and the deliveries acknowledged', 15_000)
    await expect(Promise.all(delivered)).resolves.toEqual([undefined, undefined])
    expect(echoes).toEqual([1, 3, 5])
    expect(log.filter((line) => !line.startsWith('error:') && !line.startsWith('reconnecting:'))).toEqual(['open', 'close:1006', 'open:again'])
    expect(socket.state.queued).toBe(0)
  })

  test('its protocol pings are answered: the connection outlives many of its keepalive deadlines', async () => {
    const server = await python()
    let pings = 0
    // The native socket's protocol-level pings, which a browser answers on its own too.
    class CountingWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args)
        this.on('ping', () => pings++)
      }
    }
    const socket = connect<{ n: number }>(server.url, { retry: fast, WebSocket: CountingWebSocket })
    const log = record(socket)
    await until(socket, () => socket.state.status === 'open', 'open')
    const deadline = Date.now() + 10_000
    while (pings < 8) {
      if (Date.now() > deadline) throw new Error(`only ${pings} protocol pings from the server in 10 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const echoes: number[] = []
    socket.on('message', (m) => echoes.push(m.n))
    socket.send({ n: 1 })
    await until(socket, () => echoes.length === 1, 'an echo after the pings')
    expect(log).toEqual(['open'])
  })
})
