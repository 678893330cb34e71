// @ts-check
// N clients reconnecting after an outage (DESIGN 10): the real createSocket and the peers
// against a fake network in virtual time. The peers run with the global timers (and
// Math.random, which socket.io-client's backoff calls) swapped for the virtual, seeded ones.
import { pathToFileURL } from 'node:url'
import ReconnectingWebSocket from 'reconnecting-websocket'
import { WebSocket as PartySocketWebSocket } from 'partysocket'
import { Manager } from 'socket.io-client'
import { steadysocketBuild } from './lib/artifacts.mjs'
import { createFakeNetwork } from './lib/fake-network.mjs'
import { busiestWindow, fixed, median, quantile, seededRandom } from './lib/stats.mjs'
import { createVirtualTime } from './lib/virtual-time.mjs'

export const WINDOW = 100
/** DESIGN 10: the busiest 100 ms after the server is back, as a share of the clients. */
export const BUDGET = 0.03
/** DESIGN 10: every client open again this long after the server is back. */
export const ALL_BACK_BUDGET = 10_000
/** DESIGN 10: one client, one drop, server up: median time to open again. */
export const SINGLE_BUDGET = 2_000
export const DOWN_FOR = [0, 2_000, 5_000, 10_000, 60_000]
export const LIBRARIES = ['steadysocket', 'reconnecting-websocket', 'partysocket', 'socket.io-client']
/** Long enough for every library's initial connection to count as stable (stableAfter / minUptime 5 s). */
const SETTLE = 6_000
const URL = 'ws://127.0.0.1/storm'

/**
 * @typedef {{ code: number, reason: string, wasClean: boolean }} CloseInit
 * @typedef {{ name: string, library: string, downFor: number, closeFor?: (index: number, random: () => number) => CloseInit, retry?: object, seed?: number }} Scenario
 * @typedef {ReturnType<typeof createVirtualTime>} VirtualTime
 * @typedef {{ time: VirtualTime, net: import('./lib/fake-network.mjs').FakeNetwork, random: () => number, retry?: object }} Context
 * @typedef {{ close(): void }} Client
 */

const abnormal = () => ({ code: 1006, reason: '', wasClean: false })

/** @type {Record<string, { async: boolean, make: (context: Context, createSocket: Function) => Client }>} */
const libraries = {
  steadysocket: {
    async: false,
    make: ({ time, net, random, retry }, createSocket) =>
      createSocket(URL, {
        WebSocket: net.WebSocket,
        environment: {
          online: () => true,
          listen: () => () => {},
          now: time.now,
          setTimeout: time.setTimeout,
          clearTimeout: time.clearTimeout,
        },
        // The default policy; only the random source is seeded so runs repeat.
        retry: { ...retry, random },
        on: { error: () => {} },
      }),
  },
  partysocket: {
    async: true,
    make: ({ net }) => new PartySocketWebSocket(URL, undefined, { WebSocket: net.WebSocket }),
  },
  'reconnecting-websocket': {
    async: true,
    // Its default minReconnectionDelay is `1000 + Math.random() * 4000`, drawn once per page
    // load; 10,000 browsers draw it 10,000 times, so each client gets its own draw here.
    make: ({ net, random }) =>
      new ReconnectingWebSocket(URL, undefined, {
        WebSocket: net.WebSocket,
        minReconnectionDelay: 1000 + random() * 4000,
      }),
  },
  'socket.io-client': {
    async: true,
    // socket.io-client's own Manager (default options) decides every delay: onclose() resets
    // its Backoff and calls reconnect(), which waits backoff.duration() — min 1000 ms ·
    // 2^attempts, ± randomizationFactor 0.5, capped by reconnectionDelayMax 5000
    // (node_modules/socket.io-client/build/esm/manager.js lines 302–366,
    // build/esm/contrib/backo2.js lines 26–34). Only open(), engine.io's handshake, is
    // replaced by one attempt on the fake network; it calls back as the real one does.
    make: ({ net }) => {
      const manager = /** @type {any} */ (new Manager(URL, { autoConnect: false }))
      /** @type {any} */
      let ws
      manager.open = (/** @type {((error?: Error) => void) | undefined} */ fn) => {
        if (manager._readyState.includes('open')) return manager
        manager._readyState = 'opening'
        manager.skipReconnect = false
        ws = new net.WebSocket(URL)
        ws.onopen = () => {
          manager._readyState = 'open'
          fn?.()
        }
        ws.onclose = () => {
          if (manager._readyState === 'open') return manager.onclose('transport close')
          manager._readyState = 'closed'
          if (fn) fn(new Error('refused'))
          else manager.maybeReconnectOnOpen()
        }
        return manager
      }
      manager.open()
      return {
        close() {
          manager.reconnection(false)
          manager.cleanup()
          if (ws) ws.onclose = null
          ws?.close()
        },
      }
    },
  },
}

/**
 * One outage: N clients open and stable, the server ends every connection at once and
 * refuses new ones for `downFor` ms, then accepts again; runs until all are open again.
 * @param {Scenario} scenario
 * @param {number} clients
 * @param {Function} createSocket
 */
export async function episode(scenario, clients, createSocket) {
  const time = createVirtualTime()
  const net = createFakeNetwork(time)
  const random = seededRandom(0x5eed ^ scenario.downFor ^ ((scenario.seed ?? 0) * 0x9e3779b1))
  const library = /** @type {(typeof libraries)[string]} */ (libraries[scenario.library])
  const saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout, random: Math.random }
  if (library.async) {
    // The peers call the global timers and Math.random; while they run, those are the virtual, seeded ones.
    globalThis.setTimeout = /** @type {any} */ (time.setTimeout)
    globalThis.clearTimeout = /** @type {any} */ (time.clearTimeout)
    Math.random = random
  }
  /** @type {Client[]} */
  const sockets = []
  try {
    const run = library.async ? time.runUntilAsync : (/** @type {number} */ until, /** @type {() => boolean} */ done) => time.runUntil(until, done)
    for (let i = 0; i < clients; i++) sockets.push(library.make({ time, net, random, retry: scenario.retry }, createSocket))
    await run(time.now() + SETTLE, () => false)
    if (net.open !== clients) throw new Error(`${scenario.name}: only ${net.open} of ${clients} clients opened before the outage`)
    const start = time.now()
    const back = start + scenario.downFor
    const firstAttempt = net.attempts.length
    const firstOpen = net.opens.length
    if (scenario.downFor > 0) {
      net.up = false
      // Set before the drop so that at `back` the server is up before any retry runs.
      time.setTimeout(() => (net.up = true), scenario.downFor)
    }
    const closeFor = scenario.closeFor ?? abnormal
    net.dropAll((index) => closeFor(index, random))
    await run(back + 600_000, () => time.now() >= back && net.open === clients)
    const attempts = net.attempts.slice(firstAttempt)
    const afterBack = attempts.filter((t) => t >= back)
    const reopened = net.opens.slice(firstOpen).map((t) => t - back)
    const all = busiestWindow(attempts, WINDOW)
    const after = busiestWindow(afterBack, WINDOW)
    return {
      name: scenario.name,
      library: scenario.library,
      downFor: scenario.downFor,
      clients,
      reconnected: net.open,
      // Each client should open exactly once after the outage; more would be duplicate connections.
      opens: reopened.length,
      attempts: attempts.length,
      /** Failed attempts per client while the server was down. */
      attemptsDuring: (attempts.length - afterBack.length) / clients,
      busiestAll: { count: all.count, share: all.count / clients, at: all.start - start },
      busiestAfterBack: { count: after.count, share: after.count / clients, at: after.start - back },
      /** Times after the server is back, ms. */
      backHalf: quantile(reopened, 0.5),
      backAll: Math.max(...reopened),
      /** Accepts per 100 ms after the server is back (for the live check). */
      acceptsPerWindow: histogram(reopened, WINDOW),
    }
  } finally {
    for (const socket of sockets) socket.close()
    globalThis.setTimeout = saved.setTimeout
    globalThis.clearTimeout = saved.clearTimeout
    Math.random = saved.random
  }
}

/** @param {number[]} times @param {number} width */
export function histogram(times, width) {
  /** @type {number[]} */
  const counts = []
  for (const t of times) {
    const i = Math.max(0, Math.floor(t / width))
    while (counts.length <= i) counts.push(0)
    counts[i] = /** @type {number} */ (counts[i]) + 1
  }
  return counts
}

/**
 * One client, one drop, server up: the time from the drop to open again, over `trials`
 * clients (each its own seeded draw, as many users' browsers would be).
 * @param {string} library
 * @param {Function} createSocket
 * @param {number} trials
 */
export async function singleDrop(library, createSocket, trials) {
  /** @type {number[]} */
  const times = []
  for (let seed = 1; seed <= trials; seed++) {
    const result = await episode({ name: 'single drop', library, downFor: 0, seed }, 1, createSocket)
    times.push(result.backAll)
  }
  return { library, trials, median: median(times), p90: quantile(times, 0.9), max: Math.max(...times) }
}

/**
 * The storm table: every library at every outage length, then the server hints.
 * @param {{ clients: number, libraries?: string[], downFor?: number[] }} options
 * @returns {Scenario[]}
 */
export function scenarios({ libraries = LIBRARIES, downFor = DOWN_FOR }) {
  /** @type {Scenario[]} */
  const list = []
  for (const library of libraries) for (const d of downFor) list.push({ name: `down ${d / 1000} s`, library, downFor: d })
  return list
}

/** @type {Scenario[]} */
export const hintScenarios = [
  {
    name: '1001 + {"retryAfter":5000} to all, down 5 s',
    library: 'steadysocket',
    downFor: 5_000,
    closeFor: () => ({ code: 1001, reason: '{"retryAfter":5000}', wasClean: true }),
  },
  {
    name: '1001 + retryAfter spread by the server over 5–15 s, down 5 s',
    library: 'steadysocket',
    downFor: 5_000,
    closeFor: (_index, random) => ({ code: 1001, reason: JSON.stringify({ retryAfter: Math.round(5_000 + random() * 10_000) }), wasClean: true }),
  },
]

/**
 * The frontier behind the defaults, measured with the real createSocket: (1) the first
 * retry's window `initialDelay` against the herd at once and the median single drop (both
 * the same draw, so they trade directly); (2) how later retries are drawn against attempts
 * during a long outage and the wait once the server is back.
 * @returns {{ axis: string, retry: object, downFor: number[] }[]}
 */
export function frontierScenarios() {
  return [
    ...[3_000, 3_500, 4_500, 5_000].map((initialDelay) => ({ axis: 'first retry', retry: { initialDelay }, downFor: [0] })),
    ...[{ jitter: 0.1 }, { jitter: 'equal' }, { jitter: 'full' }, { factor: 2 }, { maxDelay: 12_000 }, { jitter: 'equal', maxDelay: 12_000 }].map((retry) => ({
      axis: 'later retries',
      retry,
      downFor: [60_000],
    })),
  ]
}

/**
 * @param {{ createSocket: Function, clients?: number, singleTrials?: number, frontier?: boolean, libraries?: string[], log?: (line: string) => void }} options
 */
export async function runStorm({ createSocket, clients = 10_000, singleTrials = 10_000, frontier = true, libraries = LIBRARIES, log = () => {} }) {
  const rows = []
  for (const scenario of [...scenarios({ clients, libraries }), ...hintScenarios]) {
    const started = performance.now()
    const r = await episode(scenario, clients, createSocket)
    rows.push(r)
    log(`${stormLine(r)}  (${fixed((performance.now() - started) / 1000, 1)} s real)${r.opens === clients ? '' : `  WARNING: ${r.opens} opens for ${clients} clients`}`)
  }
  const single = []
  for (const library of singleTrials > 0 ? libraries : []) {
    const drop = await singleDrop(library, createSocket, singleTrials)
    single.push(drop)
    log(`${library.padEnd(22)} one client, one drop, server up: median ${fixed(drop.median / 1000, 2)} s to open again (90th percentile ${fixed(drop.p90 / 1000, 2)} s, ${drop.trials} trials)`)
  }
  const frontierRows = []
  if (frontier)
    for (const f of frontierScenarios())
      for (const downFor of f.downFor) {
        const r = await episode({ name: `${f.axis}: ${JSON.stringify(f.retry)}`, library: 'steadysocket', downFor, retry: f.retry }, clients, createSocket)
        frontierRows.push({ ...r, axis: f.axis, retry: f.retry })
        log(`frontier ${stormLine(r)}`)
      }
  return { window: WINDOW, budget: BUDGET, clients, rows, single, frontier: frontierRows }
}

/** @param {Awaited<ReturnType<typeof episode>>} r */
export function stormLine(r) {
  return (
    `${r.library.padEnd(22)} ${r.name.padEnd(44)} after back: busiest 100 ms ${pct(r.busiestAfterBack.share)}, half ${s(r.backHalf)}, all ${s(r.backAll)};` +
    ` attempts/client while down ${fixed(r.attemptsDuring, 2)}; busiest 100 ms of all attempts ${pct(r.busiestAll.share)}`
  )
}

/** @param {number} share */
export const pct = (share) => `${fixed(share * 100, 2)} %`
/** @param {number} ms */
export const s = (ms) => `${fixed(ms / 1000, 1)} s`

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { file, how } = await steadysocketBuild(console.log)
  console.log(`steadysocket: ${how}`)
  const { createSocket } = await import(pathToFileURL(file).href)
  const clients = Number(process.env.BENCH_CLIENTS ?? 10_000)
  await runStorm({ createSocket, clients, singleTrials: Number(process.env.BENCH_TRIALS ?? 10_000), frontier: process.env.BENCH_FRONTIER !== '0', log: console.log })
}
