import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { describe, expect, test } from 'vitest'
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import { startProxy, startServer } from '../server/index.js'
import { cleanup, connect, until } from './helpers'

// DESIGN 5 and 11 against real servers on 127.0.0.1: what `send` queued is never lost to a
// connection that dies as it opens (with the heartbeat on), and `deliver` survives
// half-open connections, ending exactly once at a server that de-duplicates by id.

const heartbeat = { interval: 500, timeout: 500 }
const retry = { initialDelay: 20, maxDelay: 100 }

/** A `ws` server that answers pings, acknowledges `{ id }` messages and records frames; `kill(n)` drops the next n connections as soon as they are accepted. */
async function ackingServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  cleanup(() => new Promise((resolve) => wss.close(resolve)))
  const frames: string[] = []
  const seen = new Set<string>()
  let killing = 0
  let accepted = 0
  wss.on('connection', (ws: ServerSocket) => {
    accepted++
    ws.on('error', () => {})
    // A server that crashes right after the upgrade: nothing it was sent is read.
    if (killing > 0) {
      killing--
      return ws.terminate()
    }
    ws.on('message', (raw) => {
      const text = String(raw)
      if (text === 'ping') return ws.send('pong')
      frames.push(text)
      const { id } = JSON.parse(text)
      if (id !== undefined) {
        seen.add(id)
        ws.send(JSON.stringify({ id, ack: true }))
      }
    })
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    frames,
    seen,
    kill: (n: number) => (killing = n),
    get accepted() {
      return accepted
    },
  }
}

const numbered = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: i }))

describe('send keeps its promise', () => {
  test('a server that accepts and drops at once loses no queued frame and duplicates none', async () => {
    const server = await ackingServer()
    server.kill(5)
    const socket = connect(server.url, { heartbeat, retry })
    socket.on('error', () => {})
    for (let n = 0; n < 50; n++) socket.send({ n })
    await until(socket, () => socket.state.status === 'open' && socket.state.queued === 0, 'the flush')
    await until(socket, () => server.frames.length >= 50, '50 frames')
    expect(server.accepted).toBeGreaterThanOrEqual(6)
    expect(server.frames).toEqual(numbered(50))
  })

  test('a proxy that resets connections right after the upgrade loses no queued frame and duplicates none', async () => {
    const server = await startServer()
    cleanup(() => server.close())
    const proxy = await startProxy({ target: server })
    cleanup(() => proxy.close())
    const socket = connect(proxy.url, { heartbeat, retry })
    socket.on('error', () => {})
    for (let n = 0; n < 30; n++) socket.send({ n })
    // Cut each of the first connections as soon as the server's upgrade answer went through.
    for (let cuts = 1; cuts <= 4; cuts++) {
      const down = proxy.bytes.down
      await proxy.waitFor((p) => p.totalConnections >= cuts && p.bytes.down > down, 10_000)
      proxy.cut()
    }
    await until(socket, () => socket.state.status === 'open' && socket.state.queued === 0, 'the flush')
    await server.waitFor((s) => s.log.filter((e) => e.data !== 'ping').length >= 30, 10_000)
    expect(server.log.map((e) => String(e.data)).filter((d) => d !== 'ping')).toEqual(numbered(30))
  })
})

describe('deliver()', () => {
  test('across a half-open connection: frames in flight are re-sent after the heartbeat declares it dead, and a de-duplicating server ends with each once', async () => {
    const server = await ackingServer()
    const proxy = await startProxy({ target: server.url })
    cleanup(() => proxy.close())
    const socket = connect<{ id: string; ack: boolean }, { text: string }>(proxy.url, { heartbeat, retry })
    socket.on('error', () => {})
    await until(socket, () => socket.state.status === 'open', 'open')
    const first = Array.from({ length: 10 }, (_, i) => socket.deliver({ text: `a${i}` }))
    await Promise.all(first)
    proxy.blackhole(true)
    // Written into a connection that no longer reaches the server.
    const second = Array.from({ length: 10 }, (_, i) => socket.deliver({ text: `b${i}` }))
    expect(socket.state.unacked).toBe(10)
    await until(socket, () => socket.state.lastClose?.code === 4000, 'the heartbeat timeout', 5000)
    proxy.blackhole(false)
    await Promise.all(second)
    const texts = server.frames.map((frame) => JSON.parse(frame).text)
    expect([...new Set(texts)].sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 10 }, (_, i) => `b${i}`)].sort())
    expect(server.seen.size).toBe(20)
    expect(socket.state).toMatchObject({ status: 'open', unacked: 0, queued: 0 })
  })

  test('deliveries keep their ids across reconnects and go out in the order of the calls, with sends between them', async () => {
    const server = await ackingServer()
    server.kill(3)
    const socket = connect<{ id: string }, object>(server.url, { heartbeat, retry })
    socket.on('error', () => {})
    const done = [socket.deliver({ k: 1 }), socket.deliver({ k: 2 })]
    socket.send({ k: 3 })
    done.push(socket.deliver({ k: 4 }))
    await Promise.all(done)
    const sent = server.frames.map((frame) => JSON.parse(frame))
    expect(sent.map((m) => m.k)).toEqual([1, 2, 3, 4])
    expect(sent.filter((m) => m.id).every((m) => /^ss[0-9a-z]+-\d+$/.test(m.id))).toBe(true)
  })
})

describe('settled requests', () => {
  test('a request that timed out while queued never reaches the server; the app\'s retry runs once', async () => {
    const server = await ackingServer()
    server.kill(1000)
    const socket = connect<{ id: string }, object>(server.url, { heartbeat, retry })
    socket.on('error', () => {})
    await expect(socket.request({ op: 'charge' }, { timeout: 200 })).rejects.toThrow('no reply in 200 ms')
    expect(socket.state.queued).toBe(0)
    server.kill(0)
    await until(socket, () => socket.state.status === 'open', 'open')
    await socket.request({ op: 'charge', retry: true })
    expect(server.frames.map((frame) => JSON.parse(frame).op)).toEqual(['charge'])
    expect(JSON.parse(server.frames[0]!).retry).toBe(true)
  })
})
