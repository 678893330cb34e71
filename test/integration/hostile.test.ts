import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, test } from 'vitest'
import { ConnectionError, TimeoutError, isFatalClose } from '../../src/index'
import { startHostile } from '../server/index.js'
import { cleanup, connect, record, until } from './helpers'

// A real gc() makes heap figures comparable; the flag can be set at run time and the
// function read from a fresh context.
setFlagsFromString('--expose-gc')
const gc = ((globalThis as { gc?: () => void }).gc ?? runInNewContext('gc')) as () => void

const MB = 1024 * 1024
/** Heap plus ArrayBuffer memory after a full collection, in bytes. */
function memory() {
  gc()
  gc()
  const { heapUsed, arrayBuffers, rss } = process.memoryUsage()
  return { heap: heapUsed + arrayBuffers, rss }
}
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`

async function hostile(handlers: Parameters<typeof startHostile>[0]) {
  const server = await startHostile(handlers)
  cleanup(() => server.close())
  return server
}

/** Fails the test on anything that escapes to the process (vitest reports them late otherwise). */
function noUncaught() {
  const escaped: unknown[] = []
  const onError = (error: unknown) => escaped.push(error)
  process.on('uncaughtException', onError)
  process.on('unhandledRejection', onError)
  cleanup(() => {
    process.off('uncaughtException', onError)
    process.off('unhandledRejection', onError)
  })
  return escaped
}

const fast = { initialDelay: 20, maxDelay: 400, factor: 2, jitter: 'none' as const }

describe('hostile servers', () => {
  test('a flood of 100,000 small frames is delivered in full and leaves the heap as it was', async () => {
    const escaped = noUncaught()
    const count = 100_000
    const pad = 'x'.repeat(200)
    const server = await hostile({
      connection(ws) {
        ws.on('message', (data) => {
          if (String(data) !== '"go"') return ws.send(String(data))
          for (let n = 1; n <= count; n++) ws.send(`{"n":${n},"pad":"${pad}"}`)
        })
      },
    })
    const socket = connect<{ n?: number; echo?: string }>(server.url)
    let received = 0
    let inOrder = true
    socket.on('message', (message) => {
      if (message.n === undefined) return
      inOrder &&= message.n === ++received
    })
    await until(socket, () => socket.state.status === 'open', 'open')
    // The server runs in this process too: measure before it buffers anything.
    const before = memory()
    socket.send('go')
    await until(socket, () => received === count, 'the whole flood', 30_000)
    const echoed = socket.request({ echo: 'after the flood' }, { timeout: 5000 })
    await expect(echoed).resolves.toMatchObject({ echo: 'after the flood' })
    const after = memory()
    console.log(`flood of ${count} frames of ${pad.length + 20} B: heap+buffers ${mb(before.heap)} before, ${mb(after.heap)} after (rss ${mb(before.rss)} → ${mb(after.rss)})`)
    expect({ received, inOrder, status: socket.state.status, escaped }).toEqual({ received: count, inOrder: true, status: 'open', escaped: [] })
    // Keeping the flood would take over 20 MB (100,000 messages of 220 B, as strings and objects).
    expect(after.heap - before.heap).toBeLessThan(8 * MB)
  }, 45_000)

  test('frames of 16 MB, text and binary, are delivered and none is kept after it was handled', async () => {
    const escaped = noUncaught()
    const frames = 6
    const big = 16 * MB
    const server = await hostile({
      connection(ws) {
        ws.once('message', () => {
          const text = `"${'y'.repeat(big - 2)}"`
          const binary = Buffer.alloc(big, 7)
          for (let i = 0; i < frames; i++) ws.send(i % 2 ? binary : text, { binary: i % 2 === 1 })
        })
      },
    })
    const socket = connect<string>(server.url)
    const sizes: number[] = []
    socket.on('message', (message) => sizes.push(message.length + 2))
    socket.on('binary', (data) => sizes.push((data as ArrayBuffer).byteLength))
    await until(socket, () => socket.state.status === 'open', 'open')
    const before = memory()
    socket.send('go')
    await until(socket, () => sizes.length === frames, 'every big frame', 30_000)
    const after = memory()
    console.log(`${frames} frames of 16 MB: heap+buffers ${mb(before.heap)} before, ${mb(after.heap)} after (rss ${mb(before.rss)} → ${mb(after.rss)})`)
    expect({ sizes, status: socket.state.status, escaped }).toEqual({ sizes: Array.from({ length: frames }, () => big), status: 'open', escaped: [] })
    expect(after.heap - before.heap).toBeLessThan(big)
  }, 45_000)

  test('a text frame of invalid UTF-8 fails that connection and the client reconnects instead of wedging', async () => {
    const escaped = noUncaught()
    const server = await hostile({
      connection(ws, n) {
        if (n <= 2) ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
        else ws.send('{"fine":true}')
      },
    })
    const socket = connect(server.url, { retry: fast })
    const log = record(socket)
    const messages: unknown[] = []
    socket.on('message', (message) => messages.push(message))
    await until(socket, () => messages.length === 1, 'the valid frame on the third connection')
    expect(messages).toEqual([{ fine: true }])
    expect(log.filter((line) => line.startsWith('open'))).toEqual(['open', 'open:again', 'open:again'])
    // `ws` fails the connection like Chromium: it ends without a close frame from the peer.
    const closes = log.filter((line) => line.startsWith('close:'))
    expect(closes).toHaveLength(2)
    for (const close of closes) expect(isFatalClose({ code: Number(close.split(':')[1]) })).toBe(false)
    expect(escaped).toEqual([])
  })

  test('a server that closes every connection right after open is retried with growing delays: the backoff does not reset before stableAfter', async () => {
    const escaped = noUncaught()
    let behave = false
    const server = await hostile({
      connection(ws) {
        if (!behave) ws.close(1011, 'crash on accept')
      },
    })
    const socket = connect(server.url, { retry: { ...fast, stableAfter: 300 } })
    const delays: number[] = []
    socket.on('reconnecting', ({ attempt, delay }) => delays.push(attempt, delay))
    await until(socket, () => delays.length === 12, 'six retries')
    behave = true
    await until(socket, () => socket.state.status === 'open' && socket.state.attempt === 0, 'a stable open to reset the count', 5000)
    expect(delays).toEqual([1, 20, 2, 40, 3, 80, 4, 160, 5, 320, 6, 400])
    expect(server.accepted).toBe(7)
    expect(escaped).toEqual([])
  })

  test('a server that never finishes the handshake makes every attempt time out and holds at most one connection', async () => {
    const escaped = noUncaught()
    let stall = true
    const server = await hostile({
      upgrade: () => stall,
    })
    const socket = connect(server.url, { retry: fast, connectTimeout: 150 })
    const errors: string[] = []
    socket.on('error', (error) => errors.push(error.name))
    await until(socket, () => errors.length >= 3, 'three timeouts', 10_000)
    stall = false
    await until(socket, () => socket.state.status === 'open', 'open once the server answers', 5000)
    expect(errors.slice(0, 3)).toEqual([TimeoutError.name, TimeoutError.name, TimeoutError.name])
    // Each timed-out attempt is abandoned before the next starts.
    await server.waitFor(() => server.sockets === 1)
    expect(server.maxSockets).toBeLessThanOrEqual(2)
    expect(escaped).toEqual([])
  })

  test.each([500, 404, 401])('an upgrade answered with HTTP %i is a ConnectionError and is retried with backoff', async (status) => {
    const escaped = noUncaught()
    const server = await hostile({
      upgrade(socket) {
        socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope`)
        return true
      },
    })
    const socket = connect(server.url, { retry: fast })
    const log = record(socket)
    await until(socket, () => socket.state.attempt >= 3, 'three failed attempts')
    expect(log.slice(0, 6)).toEqual(['error:ConnectionError', 'reconnecting:1', 'error:ConnectionError', 'reconnecting:2', 'error:ConnectionError', 'reconnecting:3'])
    expect(socket.state.lastClose).toBeNull()
    expect(escaped).toEqual([])
  })

  test('the token recipe: a 401 on the upgrade is retried with a fresh token from the url function, and a 4401 close stops for good', async () => {
    const escaped = noUncaught()
    const server = await hostile({
      upgrade(socket, _n, req) {
        if (new URL(req.url ?? '/', 'http://x').searchParams.get('token') === 'fresh') return
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
        return true
      },
      connection(ws) {
        ws.on('message', (data) => String(data) === '"revoke"' && ws.close(4401, 'token revoked'))
      },
    })
    let token = 'stale'
    const errors: unknown[] = []
    const socket = connect(() => `${server.url}/?token=${token}`, {
      retry: fast,
      shouldReconnect: (close) => close.code !== 4401 && !isFatalClose(close),
      on: { error: (error) => errors.push(error) },
    })
    await until(socket, () => errors.length === 1, 'the 401')
    expect(errors[0]).toBeInstanceOf(ConnectionError)
    token = 'fresh'
    await until(socket, () => socket.state.status === 'open', 'open with the fresh token')
    socket.send('revoke')
    await until(socket, () => socket.state.status === 'closed', 'the 4401 to stop the socket')
    expect(socket.state.lastClose).toMatchObject({ code: 4401, reason: 'token revoked' })
    expect(escaped).toEqual([])
  })

  test('close reasons of every odd shape give a finite delay within maxDelay and the client opens again', async () => {
    const escaped = noUncaught()
    const maxDelay = 400
    const exact123 = (() => {
      let reason = '{"retryAfter":100,"pad":"'
      while (Buffer.byteLength(reason + '"}') < 123) reason += 'p'
      return reason + '"}'
    })()
    const reasons = [
      '{"retryAfter":-5000}',
      '{"retryAfter":1e308}',
      '{"retryAfter":1e999}',
      '{"retryAfter":"300"}',
      '{"retryAfter":null}',
      '{"retryAfter":[1,2]}',
      '{retryAfter: 300}',
      '{"retryAfter":',
      'retryAfter=300',
      '[{"retryAfter":300}]',
      exact123,
      '{"retryAfter":9e15}',
    ]
    expect(Buffer.byteLength(exact123)).toBe(123)
    const server = await hostile({
      connection(ws, _n, req) {
        const k = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('case'))
        const reason = reasons[k]!
        if (!seen.has(k)) {
          seen.add(k)
          ws.close(1012, reason)
        }
      },
    })
    const seen = new Set<number>()
    const results = await Promise.all(
      reasons.map(async (reason, k) => {
        const socket = connect(`${server.url}/?case=${k}`, { retry: { initialDelay: 50, maxDelay, jitter: 'none' } })
        const delays: number[] = []
        socket.on('reconnecting', ({ delay }) => delays.push(delay))
        const log = record(socket)
        await until(socket, () => log.includes('open:again'), `a reopen after the close reason ${reason}`)
        return { reason, delays, log, closedWith: socket.state.lastClose?.reason }
      }),
    )
    for (const { reason, delays, log, closedWith } of results) {
      expect({ reason, log }).toEqual({ reason, log: ['open', 'close:1012', 'reconnecting:1', 'open:again'] })
      expect(closedWith).toBe(reason)
      expect(delays).toHaveLength(1)
      expect(Number.isFinite(delays[0]) && delays[0]! >= 0 && delays[0]! <= maxDelay, `delay ${delays[0]} after ${reason}`).toBe(true)
    }
    // A hint is honoured (within maxDelay) when it is a number; shapes that are no hint leave the backoff alone.
    const delayOf = (k: number) => results[k]!.delays[0]
    expect([delayOf(1), delayOf(2), delayOf(10)]).toEqual([maxDelay, maxDelay, expect.any(Number)])
    expect(delayOf(10)).toBeGreaterThanOrEqual(100)
    expect([delayOf(6), delayOf(7), delayOf(8), delayOf(9)]).toEqual([50, 50, 50, 50])
    expect(escaped).toEqual([])
  })
})
