import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, type ClientOptions } from 'ws'
import {
  startControl,
  startProxy,
  startServer,
  type FaultProxy,
  type ServerOptions,
  type TestServer,
} from '../server/index.js'

const WAIT = 5000

type Frame = { data: string | Buffer; binary: boolean }

const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function server(options?: ServerOptions): Promise<TestServer> {
  const s = await startServer(options)
  cleanups.push(() => s.close())
  return s
}

async function proxyTo(target: TestServer): Promise<FaultProxy> {
  const p = await startProxy({ target })
  cleanups.push(() => p.close())
  return p
}

/** A `ws` client that records frames and exposes its lifecycle as promises. */
function connect(url: string, options?: ClientOptions & { protocols?: string[] }) {
  const ws = new WebSocket(url, options?.protocols, options)
  cleanups.push(() => ws.terminate())
  const received: Frame[] = []
  const waiting: Array<(frame: Frame) => void> = []
  ws.on('message', (raw, binary) => {
    const frame = { data: binary ? (raw as Buffer) : raw.toString(), binary }
    const waiter = waiting.shift()
    if (waiter) waiter(frame)
    else received.push(frame)
  })
  ws.on('error', () => {})
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  opened.catch(() => {})
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })

  const next = (timeoutMs = WAIT) => {
    const ready = received.shift()
    if (ready) return Promise.resolve(ready)
    return new Promise<Frame>((resolve, reject) => {
      const waiter = (frame: Frame) => {
        clearTimeout(timer)
        resolve(frame)
      }
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(waiter), 1)
        reject(new Error(`no frame from ${url} within ${timeoutMs} ms`))
      }, timeoutMs)
      waiting.push(waiter)
    })
  }
  const nextJson = async (timeoutMs = WAIT): Promise<unknown> => JSON.parse(String((await next(timeoutMs)).data))
  const sendJson = (msg: unknown) => ws.send(JSON.stringify(msg))
  return { ws, received, opened, closed, next, nextJson, sendJson }
}

const timeout = () => ({ signal: AbortSignal.timeout(WAIT) })

describe('test server, echo mode', () => {
  it('echoes text frames as text and binary frames as binary, and logs them', async () => {
    const s = await server()
    const c = connect(s.url)
    await c.opened
    c.ws.send('hello')
    c.ws.send(Buffer.from([1, 2, 3]))

    expect([await c.next(), await c.next()]).toEqual([
      { data: 'hello', binary: false },
      { data: Buffer.from([1, 2, 3]), binary: true },
    ])
    expect(s.log).toEqual([
      { conn: 1, data: 'hello', binary: false },
      { conn: 1, data: Buffer.from([1, 2, 3]), binary: true },
    ])
  })

  it('restarts on the same port and keeps the log across restarts', async () => {
    const s = await server()
    const { port, url } = s
    const first = connect(url)
    await first.opened
    first.ws.send('a')
    await s.waitForLog(1)

    await s.restart()
    expect((await first.closed).code).toBe(1006)
    expect(s.port).toBe(port)

    const second = connect(url)
    await second.opened
    second.ws.send('b')
    await s.waitForLog(2)
    expect(s.log.map((e) => [e.conn, e.data])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ])
    expect(s.totalConnections).toBe(2)
  })

  it('refuses TCP connections while stopped and accepts them again after start', async () => {
    const s = await server()
    await s.stop()
    expect(s.listening).toBe(false)
    await expect(connect(s.url).opened).rejects.toThrow(/ECONNREFUSED/)

    await s.start()
    await connect(s.url).opened
    expect(s.connections).toBe(1)
  })

  it('answers upgrades with HTTP 503 while refusing', async () => {
    const s = await server()
    s.refuse(true)
    await expect(connect(s.url).opened).rejects.toThrow(/503/)
    expect(s.totalConnections).toBe(0)

    s.refuse(false)
    await connect(s.url).opened
  })

  it('leaves upgrade requests unanswered while stalling, so the client connect timeout fires', async () => {
    const s = await server()
    s.stall(true)
    const waiting = connect(s.url)
    await s.waitFor((x) => x.stalled === 1)
    expect(waiting.ws.readyState).toBe(WebSocket.CONNECTING)

    const timed = connect(s.url, { handshakeTimeout: 200 })
    await expect(timed.opened).rejects.toThrow(/handshake has timed out/)
    expect(s.totalConnections).toBe(0)

    s.stall(false)
    await connect(s.url).opened
  })

  it('answers nothing while silent but keeps the connection open', async () => {
    const s = await server()
    const c = connect(s.url)
    await c.opened
    const pongs: string[] = []
    c.ws.on('pong', (data) => pongs.push(data.toString()))

    s.silent(true)
    c.ws.ping('unanswered')
    c.ws.send('unanswered')
    await s.waitForLog(1)
    expect(c.ws.readyState).toBe(WebSocket.OPEN)

    s.silent(false)
    c.ws.ping('answered')
    c.ws.send('answered')
    // TCP keeps order: had the silent frames been answered, they would arrive first.
    expect(await c.next()).toEqual({ data: 'answered', binary: false })
    expect(pongs).toEqual(['answered'])
  })

  it('closes every connection with the given code and reason', async () => {
    const s = await server()
    const c = connect(s.url)
    await c.opened
    s.closeAll(4001, 'go away')
    expect(await c.closed).toEqual({ code: 4001, reason: 'go away' })
    await s.waitForConnections(0)
    expect(s.closes).toEqual([{ conn: 1, code: 4001, reason: 'go away' }])
  })

  it('rejects close codes that a close frame cannot carry', async () => {
    const s = await server()
    expect(() => s.closeAll(1006)).toThrow(/code 1006 cannot be sent.*dropAll\(\)/)
  })

  it('drops every connection abruptly, which clients see as 1006', async () => {
    const s = await server()
    const a = connect(s.url)
    const b = connect(s.url)
    await Promise.all([a.opened, b.opened])
    s.dropAll()
    expect([(await a.closed).code, (await b.closed).code]).toEqual([1006, 1006])
    await s.waitForConnections(0)
  })

  it('sends raw text and binary frames to every client', async () => {
    const s = await server()
    const c = connect(s.url)
    await c.opened
    expect(s.sendRaw('text')).toBe(1)
    s.sendRaw(Buffer.from('bin'))
    s.sendRaw('forced', { binary: true })
    expect([await c.next(), await c.next(), await c.next()]).toEqual([
      { data: 'text', binary: false },
      { data: Buffer.from('bin'), binary: true },
      { data: Buffer.from('forced'), binary: true },
    ])
  })

  it('records the path, query and subprotocol of each handshake', async () => {
    const s = await server()
    await connect(`${s.url}/live?token=t1`, { protocols: ['v1', 'v2'] }).opened
    expect(s.handshakes).toEqual([{ conn: 1, url: '/live?token=t1', protocol: 'v1' }])
  })

  it('rejects waitFor with the awaited condition and the current state on timeout', async () => {
    const s = await server()
    await expect(s.waitForConnections(3, 50)).rejects.toThrow(
      'waitFor timed out after 50 ms: waiting for connections === 3; now connections=0, totalConnections=0, log=0, listening=true',
    )
  })

  it('lets the process exit once closed', async () => {
    const script = [
      "import { startServer, startProxy, startControl } from './test/server/index.js'",
      "import { WebSocket } from 'ws'",
      "const s = await startServer({ mode: 'pubsub' })",
      'const p = await startProxy({ target: s.url })',
      'const c = await startControl({ server: s, proxy: p })',
      'const ws = new WebSocket(p.url)',
      "await new Promise((r) => ws.once('open', r))",
      "ws.send(JSON.stringify({ id: 1, method: 'delay', params: { ms: 60000 } }))",
      "await fetch(c.url + '/state')",
      's.stall(true)',
      "new WebSocket(s.url).on('error', () => {})",
      'await s.waitFor((x) => x.stalled === 1 && x.log.length === 1)',
      'await Promise.all([s.close(), p.close(), c.close(), s.close()])',
    ].join('\n')
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    cleanups.push(() => child.kill())
    const [code] = await once(child, 'exit', timeout())
    expect(code).toBe(0)
  })
})

describe('test server, pubsub mode', () => {
  it('confirms subscriptions and broadcasts publishes to subscribers with per-topic seq', async () => {
    const s = await server({ mode: 'pubsub' })
    const sub = connect(s.url)
    const pub = connect(s.url)
    await Promise.all([sub.opened, pub.opened])
    sub.sendJson({ type: 'subscribe', topic: 'news' })
    expect(await sub.nextJson()).toEqual({ type: 'subscribed', topic: 'news' })

    pub.sendJson({ type: 'publish', topic: 'news', data: { n: 1 } })
    expect(await sub.nextJson()).toEqual({ type: 'event', topic: 'news', seq: 1, data: { n: 1 } })
    expect(s.publish('news', 'from test')).toBe(2)
    expect(s.publish('other', 'x')).toBe(1)
    expect(await sub.nextJson()).toEqual({ type: 'event', topic: 'news', seq: 2, data: 'from test' })
  })

  it('replays retained events after `from` on subscribe', async () => {
    const s = await server({ mode: 'pubsub' })
    for (const n of [1, 2, 3]) s.publish('t', n)
    const c = connect(s.url)
    await c.opened
    c.sendJson({ type: 'subscribe', topic: 't', from: 1, id: 's1' })
    expect([await c.nextJson(), await c.nextJson(), await c.nextJson()]).toEqual([
      { type: 'subscribed', topic: 't', id: 's1' },
      { type: 'event', topic: 't', seq: 2, data: 2 },
      { type: 'event', topic: 't', seq: 3, data: 3 },
    ])
  })

  it('stops sending events after unsubscribe', async () => {
    const s = await server({ mode: 'pubsub' })
    const c = connect(s.url)
    await c.opened
    c.sendJson({ type: 'subscribe', topic: 't' })
    c.sendJson({ type: 'unsubscribe', topic: 't' })
    expect([await c.nextJson(), await c.nextJson()]).toEqual([
      { type: 'subscribed', topic: 't' },
      { type: 'unsubscribed', topic: 't' },
    ])
    s.publish('t', 'unseen')
    c.sendJson({ type: 'ping' })
    expect(await c.nextJson()).toEqual({ type: 'pong' })
  })

  it('answers RPC calls by id', async () => {
    const s = await server({ mode: 'pubsub' })
    const c = connect(s.url)
    await c.opened
    c.sendJson({ id: 1, method: 'delay', params: { ms: 30 } })
    c.sendJson({ id: 2, method: 'echo', params: { a: [1] } })
    c.sendJson({ id: 3, method: 'add', params: [1, 2, 3.5] })
    c.sendJson({ id: 4, method: 'nope' })
    c.sendJson({ id: 5, method: 'add', params: 'x' })
    const replies = await Promise.all([1, 2, 3, 4, 5].map(() => c.nextJson()))
    expect(replies).toEqual([
      { id: 2, result: { a: [1] } },
      { id: 3, result: 6.5 },
      { id: 4, error: 'unknown method' },
      { id: 5, error: 'add expects params: an array of numbers' },
      { id: 1, result: { ms: 30 } },
    ])
  })

  it('answers both ping forms and logs but ignores malformed JSON', async () => {
    const s = await server({ mode: 'pubsub' })
    const c = connect(s.url)
    await c.opened
    c.ws.send('{not json')
    c.ws.send('ping')
    c.sendJson({ type: 'ping' })
    expect([(await c.next()).data, await c.nextJson()]).toEqual(['pong', { type: 'pong' }])
    expect(s.log.map((e) => e.data)).toEqual(['{not json', 'ping', '{"type":"ping"}'])
  })

  it('refuses publish() in echo mode with a message that says why', async () => {
    const s = await server()
    expect(() => s.publish('t', 1)).toThrow("publish() needs mode 'pubsub'; this server runs in 'echo' mode")
  })
})

describe('fault proxy', () => {
  it('forwards bytes both ways', async () => {
    const s = await server()
    const p = await proxyTo(s)
    const c = connect(p.url)
    await c.opened
    c.ws.send('through')
    expect(await c.next()).toEqual({ data: 'through', binary: false })
    expect(p.connections).toBe(1)
    expect(p.bytes.up).toBeGreaterThan(0)
    expect(p.bytes.down).toBeGreaterThan(0)
  })

  it('swallows bytes both ways while blackholed, keeping sockets open, until cut', async () => {
    const s = await server()
    const p = await proxyTo(s)
    const c = connect(p.url)
    await c.opened
    await s.waitForConnections(1)

    p.blackhole(true)
    c.ws.send('lost up')
    await p.waitFor((x) => x.swallowed.up > 0)
    s.sendRaw('lost down')
    await p.waitFor((x) => x.swallowed.down > 0)
    expect(s.log).toEqual([])
    expect(c.received).toEqual([])
    expect([c.ws.readyState, s.connections, p.connections]).toEqual([WebSocket.OPEN, 1, 1])

    p.cut()
    expect((await c.closed).code).toBe(1006)
    await s.waitForConnections(0)
    await p.waitFor((x) => x.connections === 0)
  })

  it('hides a server-side drop while blackholed and delivers it when the blackhole ends', async () => {
    const s = await server()
    const p = await proxyTo(s)
    const c = connect(p.url)
    await c.opened
    p.blackhole(true)
    s.dropAll()
    await p.waitFor((x) => x.halfOpen === 1)
    expect(c.ws.readyState).toBe(WebSocket.OPEN)

    p.blackhole(false)
    expect((await c.closed).code).toBe(1006)
  })

  it('accepts new connections while blackholed but never completes their handshake', async () => {
    const s = await server()
    const p = await proxyTo(s)
    p.blackhole(true)
    const c = connect(p.url)
    await p.waitFor((x) => x.swallowed.up > 0)
    expect(c.ws.readyState).toBe(WebSocket.CONNECTING)
    expect(s.totalConnections).toBe(0)
  })

  it('resets new connections while refusing', async () => {
    const s = await server()
    const p = await proxyTo(s)
    p.refuse(true)
    await expect(connect(p.url).opened).rejects.toThrow(/ECONNRESET|socket hang up/)
    p.refuse(false)
    await connect(p.url).opened
  })

  it('reaches the server again after it restarts', async () => {
    const s = await server()
    const p = await proxyTo(s)
    const first = connect(p.url)
    await first.opened
    await s.restart()
    expect((await first.closed).code).toBe(1006)
    const second = connect(p.url)
    await second.opened
    second.ws.send('again')
    expect((await second.next()).data).toBe('again')
  })
})

describe('control endpoint', () => {
  async function setup() {
    const s = await server()
    const p = await proxyTo(s)
    const control = await startControl({ server: s, proxy: p })
    cleanups.push(() => control.close())
    const call = async (path: string, init?: RequestInit) => {
      const res = await fetch(control.url + path, { method: 'POST', ...init, signal: AbortSignal.timeout(WAIT) })
      return { status: res.status, cors: res.headers.get('access-control-allow-origin'), body: await res.json() }
    }
    return { s, p, control, call }
  }

  it('reports state with binary frames in base64, and clears it', async () => {
    const { s, call } = await setup()
    const c = connect(s.url)
    await c.opened
    c.ws.send('t')
    c.ws.send(Buffer.from([255, 0]))
    await s.waitForLog(2)

    const { body, cors } = await call('/state', { method: 'GET' })
    expect(cors).toBe('*')
    expect(body).toMatchObject({
      ok: true,
      connections: 1,
      totalConnections: 1,
      logLength: 2,
      log: [
        { conn: 1, binary: false, data: 't' },
        { conn: 1, binary: true, data: '/wA=' },
      ],
    })
    await call('/clear')
    expect(s.log).toEqual([])
  })

  it('sends frames and closes connections with a code', async () => {
    const { s, call } = await setup()
    const c = connect(s.url)
    await c.opened
    expect((await call('/send?data=hi')).body).toEqual({ ok: true, sent: 1 })
    await call('/send?binary=1', { body: 'raw' })
    expect([await c.next(), await c.next()]).toEqual([
      { data: 'hi', binary: false },
      { data: Buffer.from('raw'), binary: true },
    ])
    await call('/close?code=4001&reason=x')
    expect(await c.closed).toEqual({ code: 4001, reason: 'x' })
  })

  it('toggles refuse and drives the proxy', async () => {
    const { s, p, call } = await setup()
    await call('/refuse?on=1')
    await expect(connect(s.url).opened).rejects.toThrow(/503/)
    await call('/refuse?on=0')

    const c = connect(p.url)
    await c.opened
    await call('/blackhole?on=1')
    c.ws.send('x')
    await p.waitFor((x) => x.swallowed.up > 0)
    await call('/cut')
    expect((await c.closed).code).toBe(1006)
  })

  it('restarts the server while staying reachable itself', async () => {
    const { s, call } = await setup()
    expect((await call('/stop')).body).toEqual({ ok: true })
    expect(s.listening).toBe(false)
    expect((await call('/state')).body.listening).toBe(false)
    await call('/start')
    await call('/restart')
    expect(s.listening).toBe(true)
  })

  it('answers preflights, unknown routes and failures with CORS JSON', async () => {
    const { call, control } = await setup()
    const preflight = await fetch(`${control.url}/drop`, { method: 'OPTIONS', signal: AbortSignal.timeout(WAIT) })
    expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([204, '*'])

    const missing = await call('/nope')
    expect(missing.status).toBe(400)
    expect(missing.body.error).toMatch(/^no route \/nope; try one of \/drop .*\/state/)

    expect(await call('/refuse?on=maybe')).toMatchObject({ status: 400, cors: '*' })
    expect(await call('/publish?topic=t&data=1')).toEqual({
      status: 500,
      cors: '*',
      body: { ok: false, error: "test server: publish() needs mode 'pubsub'; this server runs in 'echo' mode" },
    })
  })
})

describe('cli', () => {
  it('prints one JSON line when ready and exits cleanly on SIGTERM', async () => {
    const cli = fileURLToPath(new URL('../server/cli.js', import.meta.url))
    const child = spawn(process.execPath, [cli, '--mode', 'pubsub'], { stdio: ['ignore', 'pipe', 'inherit'] })
    cleanups.push(() => child.kill('SIGKILL'))
    const exited = once(child, 'exit', timeout())
    exited.catch(() => {})
    const [line] = (await once(createInterface({ input: child.stdout }), 'line', timeout())) as [string]
    const ready = JSON.parse(line) as { url: string; proxyUrl: string; controlUrl: string }
    expect(ready).toEqual({
      url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+$/),
      proxyUrl: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+$/),
      controlUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    })

    const c = connect(ready.proxyUrl)
    await c.opened
    c.sendJson({ id: 'a', method: 'add', params: [2, 3] })
    expect(await c.nextJson()).toEqual({ id: 'a', result: 5 })

    child.kill('SIGTERM')
    expect(await exited).toEqual([0, null])
  })
})
