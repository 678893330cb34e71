import { describe, expect, test } from 'vitest'
import { startProxy, startServer } from '../server/index.js'
import { cleanup, connect, record, until } from './helpers'

const fast = { initialDelay: 50, maxDelay: 200, jitter: 'none' as const }

async function serverBehindProxy(mode: 'echo' | 'pubsub' = 'echo') {
  const server = await startServer({ mode })
  const proxy = await startProxy({ target: server })
  cleanup(() => server.close())
  cleanup(() => proxy.close())
  return { server, proxy }
}

describe('heartbeat against real servers', () => {
  test('detects a half-open path, reconnects through a healthy one, and delivers what was queued meanwhile once, in order', async () => {
    const { server, proxy } = await serverBehindProxy()
    // The first path goes through the proxy; after it dies the app's network has moved on.
    let path = proxy.url
    const interval = 500
    const timeout = 500
    const socket = connect(() => path, { heartbeat: { interval, timeout }, retry: fast })
    const log = record(socket)
    await until(socket, () => socket.state.status === 'open')
    socket.send('before')
    // The open handshake's ping is logged too: wait for the frame itself.
    await server.waitFor((s) => s.log.some((e) => e.data === '"before"'))

    proxy.blackhole(true)
    path = server.url
    const cutAt = Date.now()
    const sent = ['q1', 'q2', 'q3']
    // Frames written into the dead path are lost with it, as with any TCP connection;
    // the ones the socket still knows to queue (after it noticed) must arrive once.
    await until(socket, () => socket.state.status !== 'open', 'the heartbeat to notice', 5000)
    for (const text of sent) socket.send(text)
    await until(socket, () => socket.state.status === 'open', 'reconnection through the healthy path', 5000)
    const recoveredIn = Date.now() - cutAt
    await server.waitFor((s) => s.log.filter((e) => String(e.data).startsWith('"q')).length === 3)

    expect(log).toEqual(['open', 'error:TimeoutError', 'close:4000', 'reconnecting:1', 'open:again'])
    expect(socket.state.lastClose).toEqual({ code: 4000, reason: 'heartbeat timeout', wasClean: false })
    expect(server.log.map((e) => String(e.data)).filter((d) => d !== 'ping')).toEqual(['"before"', '"q1"', '"q2"', '"q3"'])
    // Bound, not a speed claim: silence (interval) + ping deadline (timeout) + first retry, with room for a loaded machine.
    expect(recoveredIn).toBeLessThan(interval + timeout + fast.initialDelay + 3000)
    expect(proxy.halfOpen + proxy.connections).toBeGreaterThanOrEqual(1)
  })

  test('an echo server answers the default ping, so an idle connection stays open and rtt is measured', async () => {
    const server = await startServer({ mode: 'echo' })
    cleanup(() => server.close())
    const socket = connect(server.url, { heartbeat: { interval: 100, timeout: 300 } })
    const log = record(socket)
    await until(socket, () => socket.state.rtt !== null, 'a round trip')
    await server.waitFor((s) => s.log.filter((e) => e.data === 'ping').length >= 3)
    expect(log).toEqual(['open'])
    expect(socket.state.status).toBe('open')
  })

  test('isPong recognises a {"type":"pong"} answer from a JSON server', async () => {
    const server = await startServer({ mode: 'pubsub' })
    cleanup(() => server.close())
    const messages: unknown[] = []
    const socket = connect(server.url, { heartbeat: { interval: 100, timeout: 300, ping: '{"type":"ping"}', isPong: (d) => d === '{"type":"pong"}' } })
    socket.on('message', (m) => messages.push(m))
    await until(socket, () => socket.state.rtt !== null, 'a round trip')
    await server.waitFor((s) => s.log.length >= 3)
    expect(messages).toEqual([])
    expect(socket.state.status).toBe('open')
  })

  test('a server that goes silent is detected and the socket recovers when it answers again', async () => {
    const server = await startServer({ mode: 'echo' })
    cleanup(() => server.close())
    const socket = connect(server.url, { heartbeat: { interval: 100, timeout: 200 }, retry: fast })
    const log = record(socket)
    await until(socket, () => socket.state.status === 'open')
    server.silent(true)
    await until(socket, () => log.includes('close:4000'), 'the timeout')
    server.silent(false)
    await until(socket, () => log.includes('open:again'), 'the reconnect')
    expect(log.slice(0, 5)).toEqual(['open', 'error:TimeoutError', 'close:4000', 'reconnecting:1', 'open:again'])
  })
})
