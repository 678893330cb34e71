import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { backoffDelay, createSocket, MessageError, QueueOverflowError, SteadySocketError, type SocketOptions } from '../../src/index'

// Seeded and bounded: the same cases on every run, a few hundred per property.
const runs = { seed: 20_261_201, numRuns: 150 }
const MAX_TIMER = 2 ** 31 - 1
const STATUSES = ['idle', 'connecting', 'open', 'reconnecting', 'offline', 'closed']

/** A WebSocket the test drives by hand: nothing happens until it says so. */
class FakeWebSocket {
  static CONNECTING = 0
  static OPEN = 1
  static CLOSING = 2
  static CLOSED = 3
  static created: FakeWebSocket[] = []
  readyState = 0
  binaryType = 'blob'
  bufferedAmount = 0
  /** What a write adds to bufferedAmount, as the runtime counts it (set by a test); 0 by default. */
  accounting = (_data: unknown) => 0
  protocol = ''
  extensions = ''
  sent: unknown[] = []
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  constructor(readonly url: string | URL) {
    FakeWebSocket.created.push(this)
  }
  send(data: unknown) {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open')
    this.sent.push(data)
    // Browsers and Node's ws both count a write in bufferedAmount during send().
    this.bufferedAmount += this.accounting(data)
  }
  close() {
    this.readyState = 3
  }
  open() {
    this.readyState = 1
    this.onopen?.({})
  }
  receive(data: unknown) {
    this.onmessage?.({ data })
  }
  serverClose(code: number, reason: string) {
    this.readyState = 3
    this.onclose?.({ code, reason, wasClean: true })
  }
}

/** A clock and timers the test advances by hand; it records every delay armed. */
function manualEnvironment() {
  let now = 1_000_000
  let nextId = 1
  const timers = new Map<number, { at: number; fn: () => void }>()
  const delays: number[] = []
  return {
    delays,
    environment: {
      online: () => true,
      listen: () => () => {},
      now: () => now,
      setTimeout(fn: () => void, ms: number) {
        delays.push(ms)
        const id = nextId++
        timers.set(id, { at: now + (ms > MAX_TIMER || !(ms >= 0) ? 0 : ms), fn })
        return id
      },
      clearTimeout(id: number) {
        timers.delete(id)
      },
    },
    /** Runs every timer due within `ms`, in order of due time. */
    advance(ms: number) {
      const end = now + ms
      for (let guard = 0; guard < 1000; guard++) {
        const due = [...timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (!due) break
        timers.delete(due[0])
        now = Math.max(now, due[1].at)
        due[1].fn()
      }
      now = end
    },
  }
}

function harness<In = unknown, Out = unknown>(options: SocketOptions<In, Out> = {}) {
  FakeWebSocket.created = []
  const env = manualEnvironment()
  const errors: SteadySocketError[] = []
  const socket = createSocket<In, Out>('ws://127.0.0.1:1/', {
    ...options,
    WebSocket: FakeWebSocket,
    environment: env.environment,
    on: { error: (error) => errors.push(error), ...options.on },
  })
  const ws = () => FakeWebSocket.created.at(-1)
  return { socket, env, errors, ws }
}

/** Lets promise callbacks (async url, validators) run. */
const settle = async () => {
  for (let i = 0; i < 200; i++) await Promise.resolve()
}

const odd = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(undefined, Number.NaN, Infinity, -Infinity, -0, -1, 0.5, 2 ** 31, 1e308, '', 'none', 'full', 'drop-newest', 'text', 'json'),
  fc.func(fc.oneof(fc.jsonValue(), fc.constantFrom(undefined, Number.NaN, -1))),
  fc.constant(() => {
    throw new Error('thrown by an option')
  }),
  fc.constant(new Uint8Array([1, 2])),
)

const paths = [
  'protocols',
  'binaryType',
  'lazy',
  'connectTimeout',
  'retry',
  'retry.initialDelay',
  'retry.maxDelay',
  'retry.factor',
  'retry.jitter',
  'retry.maxAttempts',
  'retry.maxElapsed',
  'retry.stableAfter',
  'retry.random',
  'shouldReconnect',
  'heartbeat',
  'heartbeat.interval',
  'heartbeat.timeout',
  'heartbeat.mode',
  'heartbeat.ping',
  'heartbeat.isPong',
  'queue',
  'queue.maxMessages',
  'queue.maxBytes',
  'queue.overflow',
  'queue.ttl',
  'delivery',
  'delivery.inFlight',
  'delivery.ttl',
  'delivery.isAck',
  'codec',
  'validate',
  'request',
  'request.idField',
  'request.timeout',
  'on',
  'on.open',
  'on.message',
  'debug',
]

/** `{ retry: { maxDelay: v } }` from `'retry.maxDelay'` and v. */
const at = (path: string, value: unknown): Record<string, unknown> => {
  const [head, tail] = path.split('.') as [string, string?]
  return { [head]: tail ? { [tail]: value } : value }
}

describe('properties', () => {
  test.each(paths)('any value for option %s gives a TypeError or RangeError naming it, or a socket that works', (path) => {
    fc.assert(
      fc.property(odd, fc.jsonValue(), (value, message) => {
        let made: ReturnType<typeof harness> | undefined
        try {
          made = harness({ debug: () => {}, ...at(path, value) } as SocketOptions)
        } catch (error) {
          expect(error instanceof TypeError || error instanceof RangeError, `${path} = ${String(value)} threw ${String(error)}`).toBe(true)
          expect((error as Error).message).toContain(path.split('.')[0])
          return
        }
        const { socket, env, ws, errors } = made
        // Every method keeps working whatever was accepted: no throw, a valid state.
        socket.connect()
        env.advance(0)
        ws()?.open()
        env.advance(10)
        socket.send(message ?? 0)
        socket.subscribe('k', { subscribe: { type: 'sub' } })
        ws()?.receive('{"type":"x"}')
        env.advance(60_000)
        expect(STATUSES).toContain(socket.state.status)
        for (const error of errors) expect(error).toBeInstanceOf(SteadySocketError)
        expect(env.delays.filter((ms) => !(ms >= 0 && ms <= MAX_TIMER)), `timers armed with ${path} = ${String(value)}`).toEqual([])
        socket.close()
        expect(socket.state.status).toBe('closed')
      }),
      { ...runs, numRuns: 60 },
    )
  })

  test('an option name that does not exist is a TypeError naming it', () => {
    fc.assert(
      fc.property(fc.constantFrom('reconnect', 'maxRetries', 'timeout', 'heartBeat', 'queueSize', 'retries', 'onMessage', 'url'), odd, (name, value) => {
        expect(() => harness({ [name]: value } as SocketOptions)).toThrow(TypeError)
        expect(() => harness({ [name]: value } as SocketOptions)).toThrow(new RegExp(name))
      }),
      { ...runs, numRuns: 40 },
    )
  })

  const behaviour = fc.oneof(
    fc.record({ kind: fc.constant('return' as const), value: odd }),
    fc.record({ kind: fc.constant('throw' as const), value: fc.oneof(fc.constant(new Error('boom')), fc.jsonValue(), fc.constant(undefined)) }),
    fc.record({ kind: fc.constant('resolve' as const), value: odd }),
    fc.record({ kind: fc.constant('reject' as const), value: fc.oneof(fc.constant(new Error('boom')), fc.jsonValue(), fc.constant(undefined)) }),
  )
  const act = (b: { kind: string; value: unknown }) => {
    if (b.kind === 'throw') throw b.value
    if (b.kind === 'resolve') return Promise.resolve(b.value)
    if (b.kind === 'reject') return Promise.reject(b.value)
    return b.value
  }
  const isWireData = (data: unknown) => typeof data === 'string' || data instanceof ArrayBuffer || ArrayBuffer.isView(data) || data instanceof Blob

  test('a codec that throws or returns odd values gives a MessageError or a frame, never another exception or a non-frame on the wire', async () => {
    await fc.assert(
      fc.asyncProperty(behaviour, behaviour, fc.array(fc.string(), { maxLength: 5 }), async (encode, decode, frames) => {
        const { socket, ws, errors, env } = harness({ codec: { encode: () => act(encode) as string, decode: () => act(decode) } })
        const messages: unknown[] = []
        socket.on('message', (message) => messages.push(message))
        env.advance(0)
        ws()!.open()
        try {
          expect(typeof socket.send({ a: 1 })).toBe('boolean')
        } catch (error) {
          expect(error).toBeInstanceOf(MessageError)
        }
        for (const frame of frames) ws()!.receive(frame)
        await settle()
        expect(ws()!.sent.filter((data) => !isWireData(data))).toEqual([])
        const failures = errors.filter((error) => error instanceof MessageError).length
        // Each frame ends one way: delivered or reported.
        expect(messages.length + failures).toBe(frames.length)
        expect(socket.state.status).toBe('open')
      }),
      runs,
    )
  })

  test('a validator that throws, rejects or returns odd values delivers or reports each frame exactly once, in order', async () => {
    const escaped: unknown[] = []
    const onRejection = (reason: unknown) => escaped.push(reason)
    process.on('unhandledRejection', onRejection)
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(behaviour, { minLength: 1, maxLength: 6 }), fc.boolean(), async (results, standard) => {
          let call = 0
          const next = () => act(results[call++ % results.length]!)
          const validate = standard ? { '~standard': { version: 1 as const, vendor: 'odd', validate: next as never } } : (next as (value: unknown) => boolean)
          const { socket, ws, errors, env } = harness({ validate })
          const messages: unknown[] = []
          socket.on('message', (message) => messages.push(message))
          env.advance(0)
          ws()!.open()
          for (let i = 0; i < results.length; i++) ws()!.receive(JSON.stringify({ i }))
          await settle()
          await new Promise((resolve) => setTimeout(resolve, 0))
          const failures = errors.filter((error) => error instanceof MessageError).length
          expect(messages.length + failures).toBe(results.length)
          const order = messages.map((m) => (m as { i?: number })?.i).filter((i) => typeof i === 'number')
          expect(order).toEqual([...order].sort((a, b) => a - b))
          expect(socket.state.status).toBe('open')
        }),
        runs,
      )
      expect(escaped).toEqual([])
    } finally {
      process.off('unhandledRejection', onRejection)
    }
  })

  test('send returns true exactly when its frame was written during the call, whatever sends, deliveries, acks and drops came before', () => {
    const op = fc.constantFrom('send' as const, 'deliver' as const, 'ack' as const, 'drop' as const, 'time' as const)
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { socket, ws, env } = harness<{ id?: string }, { n: number }>({ retry: { initialDelay: 10, jitter: 'none' } })
        env.advance(0)
        ws()!.open()
        const mismatches: string[] = []
        let n = 0
        for (const step of ops) {
          const current = ws()!
          if (step === 'send') {
            const before = current.sent.length
            const frame = JSON.stringify({ n: ++n })
            const returned = socket.send({ n })
            const written = current.sent.slice(before).includes(frame)
            if (returned !== written) mismatches.push(`send #${n} returned ${returned} but was ${written ? '' : 'not '}written (status ${socket.state.status})`)
          } else if (step === 'deliver') socket.deliver({ n: ++n }).catch(() => {})
          else if (step === 'ack') {
            const unacked = current.sent.map((data) => JSON.parse(data as string) as { id?: string }).find((frame) => frame.id)
            if (unacked && current.readyState === 1) current.receive(JSON.stringify({ id: unacked.id }))
          } else if (step === 'drop' && current.readyState === 1) current.serverClose(1006, '')
          else {
            env.advance(50)
            if (ws()!.readyState === 0) ws()!.open()
          }
        }
        expect(mismatches).toEqual([])
        socket.close()
      }),
      runs,
    )
  })

  test.each([
    ['a browser', () => 0, 0],
    // Node's `ws` counts each frame's header and mask, and control frames (a close reply, pongs).
    ["Node's ws", (size: number) => (size < 126 ? 6 : size < 65_536 ? 8 : 14), 8],
  ] as const)('after a drop, only frames that %s had not transmitted (bufferedAmount) are written again: at most once', (_runtime, overhead: (size: number) => number, control: number) => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 200 }), { minLength: 1, maxLength: 20 }), fc.nat(20), (texts, pending) => {
        const { socket, ws, env } = harness<unknown, { i: number; text: string }>({ retry: { initialDelay: 10, jitter: 'none' } })
        env.advance(0)
        const first = ws()!
        first.open()
        const untransmitted = Math.min(pending, texts.length)
        const transmitted = texts.length - untransmitted
        // Every frame waits in the socket's buffer (a slow link), then the first `transmitted`
        // go out, as bufferedAmount tells; the connection dies with the rest.
        first.accounting = (data) => {
          const size = new Blob([data as string]).size
          return size + overhead(size)
        }
        const sizes = texts.map((text, i) => {
          socket.send({ i, text })
          return new Blob([first.sent.at(-1) as string]).size
        })
        for (const size of sizes.slice(0, transmitted)) first.bufferedAmount -= size + overhead(size)
        first.bufferedAmount += control
        first.serverClose(1006, '')
        env.advance(100)
        ws()!.open()
        const again = ws()!.sent.map((data) => (JSON.parse(data as string) as { i: number }).i)
        expect(again.filter((i) => i < transmitted), 'frames written twice').toEqual([])
        if (!overhead(0) && !control) expect(again).toEqual(Array.from({ length: untransmitted }, (_, k) => transmitted + k))
        socket.close()
      }),
      runs,
    )
  })

  test('the queue never holds more than maxMessages or maxBytes, and every frame is either sent once in order or reported dropped once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 400 })),
        fc.constantFrom('drop-oldest' as const, 'drop-newest' as const),
        fc.array(fc.string({ maxLength: 60 }), { maxLength: 40 }),
        (maxMessages, maxBytes, overflow, texts) => {
          const { socket, ws, errors, env } = harness<unknown, { i: number; text: string }>({ queue: { maxMessages, maxBytes, overflow } })
          let most = 0
          socket.on('state', ({ queued }) => (most = Math.max(most, queued)))
          texts.forEach((text, i) => expect(socket.send({ i, text })).toBe(false))
          env.advance(0)
          ws()!.open()
          const sent = ws()!.sent.map((data) => JSON.parse(data as string).i as number)
          const dropped = errors.filter((e) => e instanceof QueueOverflowError).map((e) => (e.dropped as { i: number }).i)
          expect(most).toBeLessThanOrEqual(maxMessages)
          expect(ws()!.sent.reduce((bytes: number, data) => bytes + new Blob([data as string]).size, 0)).toBeLessThanOrEqual(maxBytes)
          expect(sent).toEqual([...sent].sort((a, b) => a - b))
          expect([...sent, ...dropped].sort((a, b) => a - b)).toEqual(texts.map((_, i) => i))
          expect(socket.state.queued).toBe(0)
        },
      ),
      runs,
    )
  })

  const retryAfterValue = fc.oneof(fc.jsonValue(), fc.double(), fc.constantFrom(-1, 1e308, Infinity, '5000', null))
  const reason = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.json({ maxDepth: 2 }),
    retryAfterValue.map((value) => JSON.stringify({ retryAfter: value }) ?? '{"retryAfter":}'),
    fc.constantFrom('{"retryAfter":1e999}', '{"retryAfter":-1e999}', '{"retryAfter":', 'retryAfter=5'),
  )
  const retry = fc.record(
    {
      initialDelay: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1e300, noNaN: true })),
      maxDelay: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1e12, noNaN: true })),
      factor: fc.double({ min: 0, max: 100, noNaN: true }),
      jitter: fc.constantFrom('full' as const, 'equal' as const, 'none' as const),
      random: fc.double({ min: 0, max: 1, noNaN: true }).map((r) => () => r),
    },
    // maxDelay is always given: the bounds below compare with it.
    { requiredKeys: ['maxDelay'] },
  ).map((options) => ({ ...options }))

  /** The server's hint as DESIGN 2.3 reads it: a number ≥ 0 in `{"retryAfter": ms}`. */
  const hintOf = (reason: string) => {
    try {
      const value = (JSON.parse(reason) as { retryAfter?: unknown } | null)?.retryAfter
      return typeof value === 'number' && value >= 0 ? value : undefined
    } catch {
      return undefined
    }
  }

  test('any close reason from the server gives a finite delay: within [0, maxDelay] without a hint, not before the hint (capped by maxDelay) with one, and no timer past 2^31−1 ms', () => {
    fc.assert(
      fc.property(retry, fc.integer({ min: 1000, max: 4999 }), reason, (options, code, why) => {
        const { socket, ws, env } = harness({ retry: options, shouldReconnect: () => true })
        const delays: number[] = []
        socket.on('reconnecting', ({ delay }) => delays.push(delay))
        env.advance(0)
        ws()!.open()
        ws()!.serverClose(code, why)
        const maxDelay = options.maxDelay
        const hint = hintOf(why)
        const delay = delays[0]!
        expect(delays).toHaveLength(1)
        expect(Number.isFinite(delay) && delay >= 0, `delay ${delay} for reason ${why}`).toBe(true)
        if (hint === undefined) expect(delay, `no hint in ${why}`).toBeLessThanOrEqual(maxDelay)
        else expect(delay, `hint in ${why}`).toBeGreaterThanOrEqual(Math.min(hint, maxDelay))
        expect(env.delays.filter((ms) => !(ms >= 0 && ms <= MAX_TIMER))).toEqual([])
        socket.close()
      }),
      runs,
    )
  })

  test('backoffDelay is finite, ≥ 0 and ≤ maxDelay for any attempt number and accepted options', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double(), fc.constantFrom(Infinity, -Infinity, Number.NaN, 0, 1, 1e6)), retry, (attempt, options) => {
        const delay = backoffDelay(attempt, options)
        const maxDelay = options.maxDelay
        expect(Number.isFinite(delay) && delay >= 0 && delay <= maxDelay, `backoffDelay(${attempt}, ${JSON.stringify(options)}) = ${delay}`).toBe(true)
      }),
      { ...runs, numRuns: 1000 },
    )
  })

  test('backoffDelay stays within [0, maxDelay] even when random() returns values outside [0, 1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.constantFrom('full' as const, 'equal' as const), fc.constantFrom(-1, 1, 1.5, 7, Number.NaN, Infinity), (attempt, jitter, r) => {
        const delay = backoffDelay(attempt, { jitter, random: () => r, maxDelay: 10_000 })
        expect(Number.isFinite(delay) && delay >= 0 && delay <= 10_000, `random() = ${r} gave ${delay}`).toBe(true)
      }),
      { ...runs, numRuns: 100 },
    )
  })

  test('with maxDelay: Infinity (no cap), a long outage never arms a retry timer past 2^31−1 ms, which would fire at once', () => {
    const { socket, ws, env } = harness({ retry: { maxDelay: Infinity, jitter: 'none' } })
    // 500 · 2^22 ms passes 2^31−1 at the 24th retry.
    for (let i = 0; i < 26; i++) {
      env.advance(MAX_TIMER)
      ws()!.serverClose(1006, '')
    }
    const armed = env.delays.filter((ms) => ms > MAX_TIMER || !(ms >= 0))
    expect(armed.slice(0, 3)).toEqual([])
    socket.close()
  })
})

