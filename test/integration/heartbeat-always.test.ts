import type { AddressInfo } from 'node:net'
import { describe, expect, test } from 'vitest'
import { WebSocketServer } from 'ws'
import { cleanup, connect, record, until } from './helpers'

/** The server closes a connection from which no frame arrived for this long (ms). */
const IDLE_LIMIT = 1000
const STREAM_EVERY = 50

/**
 * A Phoenix-style server: it streams a frame to every client every `STREAM_EVERY` ms,
 * answers `ping` with `pong`, and closes (4001) any connection that sent it no frame for
 * `IDLE_LIMIT` ms, however busy the stream to the client is.
 */
async function startStreamingServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const closes: number[] = []
  /** Arrival times (epoch ms) of client frames, per connection. */
  const frames: number[][] = []
  wss.on('connection', (ws) => {
    const arrivals: number[] = []
    frames.push(arrivals)
    let lastFrame = Date.now()
    let seq = 0
    const stream = setInterval(() => {
      if (Date.now() - lastFrame > IDLE_LIMIT) {
        closes.push(frames.indexOf(arrivals) + 1)
        ws.close(4001, 'no client frame')
      } else ws.send(JSON.stringify({ type: 'tick', seq: ++seq }))
    }, STREAM_EVERY)
    ws.on('close', () => clearInterval(stream))
    ws.on('message', (data) => {
      lastFrame = Date.now()
      arrivals.push(lastFrame)
      if (String(data) === 'ping') ws.send('pong')
    })
  })
  cleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resolve())
      }),
  )
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, closes, frames }
}

describe("heartbeat mode 'always'", () => {
  test('keeps a connection open on a server that closes connections with no client frame for a while, as it streams', async () => {
    const server = await startStreamingServer()
    const interval = 200
    const socket = connect(server.url, { heartbeat: { interval, timeout: 500, mode: 'always' } })
    const log = record(socket)
    let messages = 0
    socket.on('message', () => messages++)
    await until(socket, () => socket.state.status === 'open', 'open')
    // Three times the server's limit, with the stream never pausing.
    await until(socket, () => (server.frames[0]?.length ?? 0) >= (3 * IDLE_LIMIT) / interval, 'pings worth three idle limits', 10_000)

    expect(server.closes).toEqual([])
    expect(server.frames).toHaveLength(1)
    expect(log).toEqual(['open'])
    expect(messages).toBeGreaterThan(0)
    expect(socket.state.status).toBe('open')
  })

  test("for contrast, with mode 'idle' the stream postpones every ping and the same server closes the connection", async () => {
    const server = await startStreamingServer()
    const socket = connect(server.url, { heartbeat: { interval: 200, timeout: 500 } })
    const log = record(socket)
    await until(socket, () => log.includes('close:4001'), 'the server to close the idle client', 10_000)

    expect(server.closes[0]).toBe(1)
    expect(socket.state.lastClose).toEqual({ code: 4001, reason: 'no client frame', wasClean: true })
    // One frame only before the close: the ping that verifies a new connection (DESIGN 5).
    expect(server.frames[0]!.length).toBeLessThanOrEqual(1)
  })
})
