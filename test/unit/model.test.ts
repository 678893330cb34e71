import fc from 'fast-check'
import { expect, test, vi } from 'vitest'
import { createSocket, type EnvironmentSignal, type SocketEventName, type SteadySocket } from '../../src/index'
import { countingEnvironment } from '../server/index.js'
import { fakeEnvironment, mockServer, useFakeTime } from './helpers'

useFakeTime()

// A model-based test of the state machine (issue 9): random sequences of API calls,
// environment signals, server faults, timer advances and listeners that call methods,
// checked after every step against the invariants of DESIGN 2, 3 and 5.

const SEQUENCES = 120
const MAX_STEPS = 40

type Method = 'close' | 'reconnect' | 'connect'

interface Real {
  socket: SteadySocket<any, any>
  mock: ReturnType<typeof mockServer>
  env: ReturnType<typeof fakeEnvironment>
  timers: Set<unknown>
  events: string[]
  /** Values given to send() that returned false and were not reported: each must reach the server or be reported. */
  pending: Set<string>
  reported: Set<string>
  finalClose: boolean
  server: { refusing: boolean; silent: boolean }
  errors: unknown[]
}

interface Model {
  closedByApp: boolean
}

let counter = 0
let steps = 0

function invariants(r: Real) {
  steps++
  const status = r.socket.state.status
  expect(r.mock.live(), 'at most one native socket open or connecting').toBeLessThanOrEqual(1)
  if (status === 'closed') {
    expect(r.mock.live(), 'no native socket after close').toBe(0)
    expect(r.timers.size, 'no timer after close').toBe(0)
    expect(r.env.listeners, 'no environment listener after close').toBe(0)
  }
  if (status === 'open') expect(r.socket.state.queued, 'nothing stays queued while open').toBe(0)
  expect(r.errors).toEqual([])
}

class Step implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly name: string,
    readonly act: (r: Real, m: Model) => unknown,
  ) {}
  check = () => true
  async run(m: Model, r: Real) {
    await this.act(r, m)
    invariants(r)
  }
  toString = () => this.name
}

const methods: Method[] = ['close', 'reconnect', 'connect']
const events: SocketEventName[] = ['open', 'close', 'error', 'reconnecting', 'state', 'message']
const signals: EnvironmentSignal[] = ['online', 'offline', 'visible', 'hidden', 'pagehide', 'pageshow', 'freeze', 'resume']

const commands = [
  // A method call by the app starts afresh what a final close ended.
  fc.constantFrom(...methods).map((method) => new Step(`${method}()`, (r) => ((r.finalClose &&= method === 'close'), r.socket[method]()))),
  fc.nat(999).map(
    (n) =>
      new Step(`send(${n})`, (r) => {
        const value = `m${counter++}`
        if (!r.socket.send(value)) r.pending.add(value)
      }),
  ),
  fc.constantFrom(...signals).map((signal) => new Step(`signal ${signal}`, (r) => r.env.signal(signal))),
  fc.constantFrom(...events).chain((event) =>
    fc.constantFrom(...methods).map(
      (method) =>
        new Step(`on ${event} → ${method}()`, (r) => {
          let done = false
          const off = r.socket.on(event, () => {
            if (done) return
            done = true
            off()
            // The app asked: what a final close ended may start again.
            if (method !== 'close') r.finalClose = false
            r.socket[method]()
          })
        }),
    ),
  ),
  fc.constantFrom(1000, 1001, 1006, 1008, 1012, 4000, 4401).map(
    (code) =>
      new Step(`server closes ${code}`, (r) => {
        const client = r.mock.server.clients().at(-1)
        client?.close({ code, reason: code === 1012 ? '{"retryAfter":300}' : '', wasClean: code !== 1006 })
      }),
  ),
  fc.boolean().map((on) => new Step(`server refuses ${on}`, (r) => (r.server.refusing = on))),
  fc.boolean().map((on) => new Step(`server silent ${on}`, (r) => (r.server.silent = on))),
  fc.constant(new Step('server sends', (r) => r.mock.server.clients().at(-1)?.send('"push"'))),
  fc.integer({ min: 1, max: 20_000 }).map((ms) => new Step(`advance ${ms} ms`, () => vi.advanceTimersByTimeAsync(ms))),
]

function realWorld(): Real {
  const mock = mockServer()
  const env = fakeEnvironment()
  // The socket's timers, counted through the injected environment.
  const { environment: counted, timers } = countingEnvironment()
  const server = { refusing: false, silent: false }
  mock.server.on('connection', (client) => {
    if (server.refusing) return client.close({ code: 1011, reason: '', wasClean: false })
    client.on('message', (data) => data === 'ping' && !server.silent && client.send('pong'))
  })
  const real: Real = { socket: undefined as never, mock, env, timers, events: [], pending: new Set(), reported: new Set(), finalClose: false, server, errors: [] }
  const socket = createSocket<unknown, string>(mock.url, {
    WebSocket: mock.WebSocket,
    environment: { ...env.environment, setTimeout: counted.setTimeout, clearTimeout: counted.clearTimeout },
    heartbeat: { interval: 2000, timeout: 1000 },
    retry: { initialDelay: 200, maxDelay: 2000, maxAttempts: 8 },
    queue: { maxMessages: 20 },
    codec: 'text',
  })
  real.socket = socket
  for (const event of events)
    socket.on(event, (payload: any) => {
      // DESIGN 2.3: after the final close, nothing happens until the app asks.
      if (real.finalClose && event !== 'error' && event !== 'state') real.errors.push(`${event} after the final close`)
      if (event === 'close') real.finalClose = !payload.willReconnect
      if (event === 'open') real.finalClose = false
      if (event === 'error' && payload.dropped !== undefined) real.reported.add(payload.dropped)
    })
  return real
}

test(`the state machine keeps its invariants over ${SEQUENCES} random sequences of calls, signals, faults and re-entrant listeners`, async () => {
  let sequences = 0
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_STEPS, size: 'max' }), async (cmds) => {
      sequences++
      const real = realWorld()
      try {
        await fc.asyncModelRun(() => ({ model: { closedByApp: false }, real }), cmds)
        // Every message path ends in sent, queued or reported: heal the world and look.
        real.server.refusing = real.server.silent = false
        real.env.signal('online')
        real.socket.connect()
        await vi.advanceTimersByTimeAsync(10_000)
        const received = new Set(real.mock.received as string[])
        const lost = [...real.pending].filter((value) => !received.has(value) && !real.reported.has(value))
        expect(real.socket.state.status === 'open' ? lost : []).toEqual([])
      } finally {
        real.socket.close()
        real.mock.stop()
      }
    }),
    // Bounded in time as well as in count: on a slow machine it checks fewer sequences, and says how many.
    { seed: 20261201, numRuns: SEQUENCES, interruptAfterTimeLimit: 40_000 },
  )
  console.log(`model-based test: ${sequences} sequences, ${steps} checked steps`)
}, 60_000)
