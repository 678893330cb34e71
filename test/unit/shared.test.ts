import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { TimeoutError, type EnvironmentSignal } from '../../src/index'
import { createSharedSocket, type SharedSocket, type SharedSocketOptions } from '../../src/shared/index'

// Fakes of what tabs of one origin share: a Web Locks manager, BroadcastChannel delivery and
// a WebSocket server. Each "tab" gets its own view of them, so a test can kill a tab (its
// locks are released, its messages and sockets stop) the way a crash does.

type Callback = (lock: { name: string } | null) => unknown
interface Request {
  client: string
  name: string
  callback: Callback
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  signal?: AbortSignal
}

const abortError = () => new DOMException('aborted', 'AbortError')

class Locks {
  held = new Map<string, Request>()
  queue: Request[] = []
  dead = new Set<string>()

  view(client: string) {
    return {
      request: (name: string, ...rest: unknown[]) => {
        const callback = rest.pop() as Callback
        const options = (rest[0] ?? {}) as { signal?: AbortSignal; steal?: boolean }
        return new Promise((resolve, reject) => {
          if (this.dead.has(client)) return
          const request: Request = { client, name, callback, resolve, reject, signal: options.signal }
          if (options.signal?.aborted) return reject(abortError())
          options.signal?.addEventListener('abort', () => {
            const at = this.queue.indexOf(request)
            if (at >= 0) {
              this.queue.splice(at, 1)
              reject(abortError())
            }
          })
          if (options.steal) {
            const holder = this.held.get(name)
            if (holder) {
              this.held.delete(name)
              holder.reject(abortError())
            }
            this.queue.unshift(request)
          } else this.queue.push(request)
          this.grant()
        })
      },
      query: async () => ({ held: [...this.held.values()].map(({ name, client }) => ({ name, clientId: client, mode: 'exclusive' })), pending: [] }),
    }
  }

  grant() {
    // A copy: granted requests leave the queue while it is walked.
    for (const request of this.queue.slice()) {
      if (this.held.has(request.name) || !this.queue.includes(request)) continue
      this.queue.splice(this.queue.indexOf(request), 1)
      this.held.set(request.name, request)
      Promise.resolve()
        .then(() => request.callback({ name: request.name }))
        .then(
          (value) => this.release(request, () => request.resolve(value)),
          (error) => this.release(request, () => request.reject(error)),
        )
    }
  }

  release(request: Request, settle: () => void) {
    if (this.held.get(request.name) === request) this.held.delete(request.name)
    settle()
    this.grant()
  }

  /** What the browser does when a tab crashes: its locks go, its queued requests vanish. */
  kill(client: string) {
    this.dead.add(client)
    for (const [name, request] of this.held) if (request.client === client) this.held.delete(name)
    this.queue = this.queue.filter((request) => request.client !== client)
    this.grant()
  }
}

class Hub {
  channels = new Set<{ name: string; client: string; closed: boolean; onmessage: ((event: { data: unknown }) => void) | null }>()
  dead = new Set<string>()
  /** Tabs whose messages are held back (a frozen page runs no timers; here its beats are lost). */
  muted = new Set<string>()
  /** Every message posted, with its sender. */
  log: Array<{ client: string; data: any }> = []

  view(client: string) {
    const { channels, dead, muted, log } = this
    return class FakeChannel {
      name: string
      client = client
      closed = false
      onmessage: ((event: { data: unknown }) => void) | null = null
      constructor(name: string) {
        this.name = name
        channels.add(this)
      }
      postMessage(message: unknown) {
        if (this.closed) throw new DOMException('closed', 'InvalidStateError')
        const data = structuredClone(message)
        if (dead.has(client) || muted.has(client)) return
        log.push({ client, data })
        for (const other of channels)
          if (other !== this && other.name === this.name)
            setTimeout(() => {
              if (!other.closed && !dead.has(other.client)) other.onmessage?.({ data: structuredClone(data) })
            }, 0)
      }
      close() {
        this.closed = true
        channels.delete(this)
      }
    }
  }
}

interface Frame {
  conn: number
  client: string
  data: any
}

class Server {
  sockets: Array<{ id: number; client: string; readyState: number; deliver(data: string): void; drop(): void }> = []
  frames: Frame[] = []
  dead = new Set<string>()

  get open() {
    return this.sockets.filter((socket) => socket.readyState === 1).length
  }

  /** Frames of one connection, decoded. */
  on(conn: number) {
    return this.frames.filter((frame) => frame.conn === conn).map((frame) => JSON.parse(frame.data))
  }

  get all() {
    return this.frames.map((frame) => JSON.parse(frame.data))
  }

  get last() {
    return this.sockets.at(-1)!
  }

  view(client: string) {
    const { sockets, frames, dead } = this
    return class FakeWebSocket {
      static CONNECTING = 0
      static OPEN = 1
      static CLOSING = 2
      static CLOSED = 3
      id = sockets.length + 1
      client = client
      readyState = 0
      binaryType = 'blob'
      bufferedAmount = 0
      onopen: ((event: unknown) => void) | null = null
      onmessage: ((event: { data: unknown }) => void) | null = null
      onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null
      onerror: ((event: unknown) => void) | null = null
      constructor() {
        sockets.push(this)
        setTimeout(() => {
          if (this.readyState !== 0) return
          if (dead.has(client)) {
            this.readyState = 3
            return this.onclose?.({ code: 1006, reason: '', wasClean: false })
          }
          this.readyState = 1
          this.onopen?.({})
        }, 5)
      }
      send(data: string) {
        if (this.readyState !== 1) return
        frames.push({ conn: this.id, client, data })
        const message = JSON.parse(data)
        // Requests are answered with their method, deliveries acknowledged by id.
        if (message.method) setTimeout(() => this.deliver(JSON.stringify({ id: message.id, result: message.method })), 1)
        if (message.type === 'post') setTimeout(() => this.deliver(JSON.stringify({ id: message.id })), 1)
      }
      deliver(data: string) {
        if (this.readyState === 1) this.onmessage?.({ data })
      }
      drop() {
        if (this.readyState > 1) return
        this.readyState = 3
        this.onclose?.({ code: 1006, reason: '', wasClean: false })
      }
      close(code = 1005, reason = '') {
        if (this.readyState > 1) return
        this.readyState = 3
        setTimeout(() => this.onclose?.({ code, reason, wasClean: true }), 0)
      }
    }
  }
}

let locks: Locks
let hub: Hub
let server: Server
let opened: Array<SharedSocket<any, any>>

interface Tab {
  name: string
  socket: SharedSocket<any, any>
  events: string[]
  messages: unknown[]
  signal(signal: EnvironmentSignal): void
  /** Environment listeners this tab has now. */
  listening(): number
  kill(): void
}

/** A tab of the origin: its own locks view, channel and sockets; `events` records roles and socket events. */
function tab(name: string, options: Partial<SharedSocketOptions<any, any>> = {}): Tab {
  const listeners = new Set<(signal: EnvironmentSignal) => void>()
  vi.stubGlobal('navigator', { ...globalThis.navigator, locks: locks.view(name) })
  vi.stubGlobal('BroadcastChannel', hub.view(name))
  const events: string[] = []
  const messages: unknown[] = []
  const socket = createSharedSocket<any, any>('ws://example.test/live', {
    name: 'app:user-1',
    WebSocket: server.view(name),
    retry: { initialDelay: 100, maxDelay: 100, jitter: 'none' },
    takeoverAfter: 2000,
    environment: {
      online: () => true,
      listen(listener) {
        listeners.add(listener)
        return () => void listeners.delete(listener)
      },
    },
    ...options,
  })
  vi.unstubAllGlobals()
  opened.push(socket)
  socket.on('role', (role) => events.push(`role:${role}`))
  socket.on('open', ({ reconnect }) => events.push(reconnect ? 'open:reconnect' : 'open'))
  socket.on('close', ({ code, willReconnect }) => events.push(`close:${code}:${willReconnect ? 'retry' : 'stop'}`))
  socket.on('message', (message) => messages.push(message))
  socket.on('error', (error) => events.push(`error:${error.name}`))
  return {
    name,
    socket,
    events,
    messages,
    signal: (signal) => listeners.forEach((listener) => listener(signal)),
    listening: () => listeners.size,
    kill() {
      locks.kill(name)
      hub.dead.add(name)
      server.dead.add(name)
      for (const socket of server.sockets) if (socket.client === name) socket.readyState = 3
    },
  }
}

const settle = (ms = 50) => vi.advanceTimersByTimeAsync(ms)
// A crashed tab's object lives on in the test process: only living tabs count.
const leaders = (tabs: Tab[]) => tabs.filter((t) => t.socket.role === 'leader' && !hub.dead.has(t.name)).map((t) => t.name)

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
  locks = new Locks()
  hub = new Hub()
  server = new Server()
  opened = []
})

afterEach(() => {
  for (const socket of opened) socket.close()
  vi.clearAllTimers()
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('createSharedSocket: election and the one connection', () => {
  test('three tabs share one connection: one leader, two followers, every tab open', async () => {
    const tabs = [tab('a'), tab('b'), tab('c')]
    await settle(600)

    expect(server.sockets.length).toBe(1)
    expect(server.open).toBe(1)
    expect(leaders(tabs)).toEqual(['a'])
    expect(tabs.map((t) => [t.socket.role, t.socket.state.status])).toEqual([
      ['leader', 'open'],
      ['follower', 'open'],
      ['follower', 'open'],
    ])
    expect(tabs.map((t) => t.events)).toEqual([['role:leader', 'open'], ['open'], ['open']])
  })

  test('two tabs starting in the same tick elect exactly one leader and open one connection', async () => {
    const tabs = [tab('a'), tab('b')]
    await settle(600)
    expect(leaders(tabs).length).toBe(1)
    expect(server.sockets.length).toBe(1)
  })

  test('a follower mirrors state, messages and binary-free events from the leader', async () => {
    const [, b] = [tab('a'), tab('b')]
    await settle(600)
    server.last.deliver(JSON.stringify({ type: 'news', n: 1 }))
    await settle()
    expect(b.messages).toEqual([{ type: 'news', n: 1 }])
    expect(b.socket.state.status).toBe('open')
  })

  test('without Web Locks the tab runs its own socket and reports role solo', async () => {
    vi.stubGlobal('navigator', { ...globalThis.navigator, locks: undefined })
    const socket = createSharedSocket('ws://example.test/live', { name: 'app:user-1', WebSocket: server.view('solo') })
    vi.unstubAllGlobals()
    opened.push(socket)
    await settle()
    expect(socket.role).toBe('solo')
    expect(socket.state.status).toBe('open')
    expect(server.open).toBe(1)
  })

  test('close() leaves no timer, no environment listener and no lock behind; connect() joins again', async () => {
    const a = tab('a')
    await settle(600)
    a.socket.close()
    await settle(600)
    expect([vi.getTimerCount(), a.listening(), [...locks.held.keys()], server.open]).toEqual([0, 0, [], 0])
    a.socket.connect()
    await settle(600)
    expect([a.socket.role, a.socket.state.status, server.open]).toEqual(['leader', 'open', 1])
  })

  test('a missing name is a TypeError that says to include the user', () => {
    expect(() => createSharedSocket('ws://example.test/', {} as SharedSocketOptions)).toThrow(/option name got undefined — use a string that includes the user/)
    expect(() => createSharedSocket('ws://example.test/', { name: 'x', takeoverAfter: 0 })).toThrow(RangeError)
  })
})

describe('createSharedSocket: sends, requests and deliveries from any tab', () => {
  test("a follower's sends reach the server once each, in order; send() returns true while open, as createSocket's does", async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    const returned = [b.socket.send({ n: 1 }), b.socket.send({ n: 2 }), a.socket.send({ n: 3 }), b.socket.send({ n: 4 })]
    await settle()
    expect(returned).toEqual([true, true, true, true])
    const fromB = server.frames.filter((f) => JSON.parse(f.data).n % 3 !== 0).map((f) => JSON.parse(f.data).n)
    expect(fromB).toEqual([1, 2, 4])
    expect(server.all.map((m) => m.n).sort()).toEqual([1, 2, 3, 4])
  })

  test('a send that cannot be encoded throws in the follower, synchronously', async () => {
    const [, b] = [tab('a'), tab('b')]
    await settle(600)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => b.socket.send(cyclic)).toThrow(/encode failed/)
  })

  test('the reply to a follower request goes to that tab only', async () => {
    const [a, b, c] = [tab('a'), tab('b'), tab('c')]
    await settle(600)
    const reply = b.socket.request({ method: 'whoami' })
    await settle()
    await expect(reply).resolves.toEqual({ id: expect.any(String), result: 'whoami' })
    expect(a.messages).toEqual([])
    expect(c.messages).toEqual([])
    expect(b.messages).toEqual([])
    expect(hub.log.filter((m) => m.data.t === 'R').map((m) => m.data.to)).toEqual([hub.log.find((m) => m.client === 'b' && m.data.t === 'W')!.data.f])
  })

  test('a follower request times out with TimeoutError when the server never answers', async () => {
    const [, b] = [tab('a'), tab('b')]
    await settle(600)
    const reply = b.socket.request({ quiet: true }, { timeout: 300 })
    const outcome = reply.catch((error: Error) => error)
    await settle(400)
    // The leader's error crosses tabs as data and comes back as the same class.
    expect(await outcome).toBeInstanceOf(TimeoutError)
  })

  test('aborting a follower request rejects it with the reason and the server never answers it later', async () => {
    const [, b] = [tab('a'), tab('b')]
    await settle(600)
    const abort = new AbortController()
    const reply = b.socket.request({ quiet: true }, { signal: abort.signal })
    abort.abort(new Error('changed my mind'))
    await expect(reply).rejects.toThrow('changed my mind')
  })

  test('a follower delivery resolves on the ack, with an id set by the follower', async () => {
    const [, b] = [tab('a'), tab('b')]
    await settle(600)
    const done = b.socket.deliver({ type: 'post', text: 'hi' })
    await settle()
    await expect(done).resolves.toBeUndefined()
    expect(server.all).toEqual([{ id: expect.any(String), type: 'post', text: 'hi' }])
  })
})

describe('createSharedSocket: subscriptions across tabs', () => {
  const spec = { subscribe: { type: 'sub', topic: 't' }, unsubscribe: { type: 'unsub', topic: 't' } }

  for (const count of [1, 2, 10])
    test(`${count} tab(s) holding one key send one subscribe and, after all release in random order, one unsubscribe`, async () => {
      const tabs = Array.from({ length: count }, (_, i) => tab(`t${i}`))
      await settle(600)
      const releases = tabs.map((t) => t.socket.subscribe('t', spec))
      await settle()
      expect(server.all).toEqual([spec.subscribe])
      // A fixed shuffle (no Math.random in tests): every other one from the end, then the rest.
      const order = releases.map((_, i) => i).sort((x, y) => ((x * 7) % count) - ((y * 7) % count) || x - y)
      for (const i of order.reverse()) {
        releases[i]!()
        releases[i]!()
        await settle(10)
      }
      await settle()
      expect(server.all).toEqual([spec.subscribe, spec.unsubscribe])
    })

  test('messages reach the onMessage of the tabs whose match accepts them', async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    const gotA: unknown[] = []
    const gotB: unknown[] = []
    a.socket.subscribe('x', { subscribe: { sub: 'x' }, match: (m: any) => m.topic === 'x' }, (m) => gotA.push(m))
    b.socket.subscribe('y', { subscribe: { sub: 'y' }, match: (m: any) => m.topic === 'y' }, (m) => gotB.push(m))
    await settle()
    server.last.deliver(JSON.stringify({ topic: 'x' }))
    server.last.deliver(JSON.stringify({ topic: 'y' }))
    await settle()
    expect([gotA, gotB]).toEqual([[{ topic: 'x' }], [{ topic: 'y' }]])
  })

  test("every tab's keys are re-sent once on each reconnect, before queued frames, with a follower's latest function value", async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    let seen = 0
    a.socket.subscribe('x', { subscribe: { sub: 'x' } })
    b.socket.subscribe('y', { subscribe: () => ({ sub: 'y', from: seen }) }, () => seen++)
    await settle()
    server.last.deliver(JSON.stringify({ ev: 1 }))
    server.last.deliver(JSON.stringify({ ev: 2 }))
    await settle()
    server.last.drop()
    await settle(10)
    expect([b.socket.state.status, b.socket.send({ queued: true })]).toEqual(['reconnecting', false])
    await settle(300)
    expect(server.sockets.length).toBe(2)
    expect(server.on(2)).toEqual([{ sub: 'x' }, { sub: 'y', from: 2 }, { queued: true }])
  })

  test('a tab that crashes is dropped: the key only it held is unsubscribed', async () => {
    const [, b] = [tab('a'), tab('b')]
    await settle(600)
    b.socket.subscribe('y', { subscribe: { sub: 'y' }, unsubscribe: { unsub: 'y' } })
    await settle()
    b.kill()
    await settle()
    expect(server.all).toEqual([{ sub: 'y' }, { unsub: 'y' }])
  })
})

describe('createSharedSocket: failover', () => {
  test('the leader crashes: a follower leads, opens one new connection, re-sends every key once and the unconfirmed sends', async () => {
    const [a, b, c] = [tab('a'), tab('b'), tab('c')]
    await settle(600)
    a.socket.subscribe('x', { subscribe: { sub: 'x' } })
    b.socket.subscribe('y', { subscribe: { sub: 'y' } })
    c.socket.subscribe('y', { subscribe: { sub: 'y' } })
    await settle()
    // Posted, then the leader dies before it reads them: nobody confirmed these.
    c.socket.send({ n: 1 })
    c.socket.send({ n: 2 })
    a.kill()
    await settle(1000)

    expect(leaders([a, b, c])).toEqual(['b'])
    expect(server.sockets.length).toBe(2)
    expect(server.open).toBe(1)
    expect(server.on(2)).toEqual([{ sub: 'y' }, { n: 1 }, { n: 2 }])
    expect(b.events).toEqual(['open', 'role:leader', 'close:1001:retry', 'open:reconnect'])
    expect(c.events).toEqual(['open', 'close:1001:retry', 'open:reconnect'])
  })

  test('a follower delivery in flight when the leader crashes is re-sent with the same id to the new leader', async () => {
    const [a, b, c] = [tab('a'), tab('b'), tab('c')]
    await settle(600)
    server.dead.add('a') // the leader's server stops answering: no ack
    for (const socket of server.sockets) socket.deliver = () => {}
    const done = c.socket.deliver({ type: 'post', text: 'hi' })
    await settle()
    a.kill()
    await settle(1000)
    await expect(done).resolves.toBeUndefined()
    const posts = server.frames.filter((f) => JSON.parse(f.data).type === 'post')
    expect(posts.map((f) => f.conn)).toEqual([1, 2])
    expect(new Set(posts.map((f) => JSON.parse(f.data).id)).size).toBe(1)
    expect(leaders([a, b, c])).toEqual(['b'])
  })

  test('a follower request the old leader had sent rejects with ConnectionError when the leader crashes', async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    const reply = b.socket.request({ quiet: true })
    const outcome = reply.catch((error: Error) => error.name)
    await settle()
    a.kill()
    await settle(1000)
    expect(await outcome).toBe('ConnectionError')
  })

  test('the leader closes during a reconnect: the next tab leads with one connection and the keys once', async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    b.socket.subscribe('y', { subscribe: { sub: 'y' } })
    await settle()
    server.last.drop()
    await settle(20) // a is waiting to reconnect
    a.socket.close()
    await settle(1000)
    expect(leaders([a, b])).toEqual(['b'])
    expect(a.events.at(-1)).toBe('close:1000:stop')
    expect(server.open).toBe(1)
    expect(server.sockets.filter((s) => s.client === 'b').length).toBe(1)
    expect(server.on(server.last.id)).toEqual([{ sub: 'y' }])
  })

  test('a silent leader is taken over by a visible follower after takeoverAfter, and ignored afterwards', async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    const oldTerm = hub.log.find((m) => m.client === 'a' && m.data.t === 'L')!.data.T
    hub.muted.add('a') // frozen: its beats stop
    await settle(2600)
    expect(leaders([a, b])).toEqual(['b'])
    expect(a.socket.role).toBe('follower')
    hub.muted.delete('a')
    // A message from the old leader's term arrives late: the follower ignores it.
    const spy = new (hub.view('spy'))('steadysocket/1/app:user-1')
    spy.postMessage({ t: 'E', T: oldTerm, e: 'message', p: { stale: true } })
    server.last.deliver(JSON.stringify({ fresh: true }))
    await settle()
    expect(a.messages).toEqual([{ fresh: true }])
    expect(server.open).toBe(1)
  })

  test('a hidden follower does not take over a silent leader; it does when it becomes visible', async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    b.signal('hidden')
    hub.muted.add('a')
    await settle(5000)
    expect(leaders([a, b])).toEqual(['a'])
    b.signal('visible')
    await settle(600)
    expect(leaders([a, b])).toEqual(['b'])
  })

  test('a leader entering the back/forward cache abdicates, and rejoins as a follower when restored', async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    a.signal('pagehide')
    await settle(600)
    expect(leaders([a, b])).toEqual(['b'])
    a.signal('pageshow')
    await settle(600)
    expect([a.socket.role, a.socket.state.status]).toEqual(['follower', 'open'])
    expect(server.open).toBe(1)
  })

  test("a leader's close() hands over and does not close the other tabs", async () => {
    const [a, b] = [tab('a'), tab('b')]
    await settle(600)
    a.socket.close()
    await settle(600)
    expect([a.socket.state.status, b.socket.state.status, b.socket.role]).toEqual(['closed', 'open', 'leader'])
    expect(a.socket.send({ late: true })).toBe(false)
    expect(a.events.at(-1)).toBe('error:SocketClosedError')
  })
})
