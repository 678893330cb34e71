// @ts-check
// The live check of the storm simulation: a few hundred real sockets (the built
// createSocket, Node's `ws` client) against the real test server (test/server) on
// 127.0.0.1, which stops for 2 s and listens again; the server's accepts per 100 ms after
// it is back, beside what the virtual-time simulation (storm.mjs) predicts for the same count.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { WebSocket } from 'ws'
import { startServer } from '../test/server/index.js'
import { steadysocketBuild } from './lib/artifacts.mjs'
import { busiestWindow, fixed, quantile } from './lib/stats.mjs'
import { episode, histogram, WINDOW } from './storm.mjs'

/**
 * @param {{ createSocket: Function, clients?: number, downFor?: number, log?: (line: string) => void }} options
 */
export async function runLiveStorm({ createSocket, clients = 300, downFor = 2_000, log = () => {} }) {
  const server = await startServer()
  /** @type {number[]} */
  const attempts = []
  /** A `ws` client that timestamps every attempt (constructor call). */
  class CountingWebSocket extends WebSocket {
    /** @param {ConstructorParameters<typeof WebSocket>} args */
    constructor(...args) {
      super(...args)
      attempts.push(performance.now())
    }
  }
  /** @type {{ close(): void, state: { status: string } }[]} */
  const sockets = []
  /** @type {number[]} */
  const accepts = []
  let seen = server.totalConnections
  let opens = 0
  // waitFor's predicate runs on every server event: it timestamps each accepted connection.
  const watch = (/** @type {() => boolean} */ done, /** @type {number} */ timeoutMs) =>
    server.waitFor((srv) => {
      for (; seen < srv.totalConnections; seen++) accepts.push(performance.now())
      return done()
    }, timeoutMs)
  try {
    for (let i = 0; i < clients; i++)
      sockets.push(
        createSocket(server.url, {
          WebSocket: CountingWebSocket,
          environment: { online: () => true, listen: () => () => {} },
          on: { error: () => {}, open: () => opens++ },
        }),
      )
    await watch(() => server.connections === clients, 20_000)
    // The server counts a connection before the client sees it open.
    for (let waited = 0; opens < clients && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10))
    if (opens !== clients) throw new Error(`live storm: ${opens} of ${clients} sockets open before the outage`)
    const firstAttempt = attempts.length
    const firstAccept = accepts.length
    const down = performance.now()
    await server.stop()
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, downFor - (performance.now() - down))))
    await server.start()
    const back = performance.now()
    // The clients share one event loop: a stall of it releases the timers it delayed together.
    const lag = monitorEventLoopDelay({ resolution: 10 })
    lag.enable()
    // Bounded: the defaults bring every client back within 10 s; 30 s is ample on a loaded machine.
    await watch(() => server.connections === clients, 30_000)
    lag.disable()
    const opened = accepts.slice(firstAccept).map((t) => t - back)
    const tries = attempts.slice(firstAttempt)
    const live = {
      clients,
      downFor: back - down,
      accepts: opened.length,
      busiest: busiestWindow(opened, WINDOW).count,
      half: quantile(opened, 0.5),
      all: Math.max(...opened),
      attemptsDuring: tries.filter((t) => t < back).length / clients,
      perWindow: histogram(opened, WINDOW),
      loopDelayMax: lag.max / 1e6,
      loopDelayP99: lag.percentile(99) / 1e6,
    }
    const sim = await episode({ name: `live check, down ${downFor / 1000} s`, library: 'steadysocket', downFor }, clients, createSocket)
    const simulated = {
      clients,
      downFor,
      accepts: sim.opens,
      busiest: sim.busiestAfterBack.count,
      half: sim.backHalf,
      all: sim.backAll,
      attemptsDuring: sim.attemptsDuring,
      perWindow: sim.acceptsPerWindow,
    }
    for (const line of liveLines(live, simulated)) log(line)
    return { live, simulated }
  } finally {
    for (const socket of sockets) socket.close()
    await server.close()
  }
}

/**
 * @typedef {{ clients: number, downFor: number, accepts: number, busiest: number, half: number, all: number, attemptsDuring: number, perWindow: number[], loopDelayMax?: number, loopDelayP99?: number }} LiveFigures
 * @param {LiveFigures} live @param {LiveFigures} sim
 */
export function liveLines(live, sim) {
  const lines = [
    `${live.clients} real sockets, server stopped for ${fixed(live.downFor / 1000, 2)} s: accepts after it is back`,
    `  live:      busiest 100 ms ${live.busiest} (${fixed((live.busiest / live.clients) * 100, 1)} %), half ${fixed(live.half / 1000, 2)} s, all ${fixed(live.all / 1000, 2)} s, attempts/client while down ${fixed(live.attemptsDuring, 2)}` +
      (live.loopDelayMax === undefined ? '' : `; event-loop delay p99 ${fixed(live.loopDelayP99 ?? Number.NaN, 0)} ms, max ${fixed(live.loopDelayMax, 0)} ms`),
    `  simulated: busiest 100 ms ${sim.busiest} (${fixed((sim.busiest / sim.clients) * 100, 1)} %), half ${fixed(sim.half / 1000, 2)} s, all ${fixed(sim.all / 1000, 2)} s, attempts/client while down ${fixed(sim.attemptsDuring, 2)}`,
    '  accepts per 100 ms after the server is back (live | simulated), one second per line:',
  ]
  const seconds = Math.ceil(Math.max(live.perWindow.length, sim.perWindow.length) / 10)
  const cells = (/** @type {number[]} */ counts, /** @type {number} */ second) =>
    Array.from({ length: 10 }, (_, i) => String(counts[second * 10 + i] ?? 0).padStart(3)).join('')
  for (let second = 0; second < seconds; second++) lines.push(`  ${String(second).padStart(2)}–${second + 1} s ${cells(live.perWindow, second)}  |${cells(sim.perWindow, second)}`)
  return lines
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { file, how } = await steadysocketBuild(console.log)
  console.log(`steadysocket: ${how}`)
  const { createSocket } = await import(pathToFileURL(file).href)
  await runLiveStorm({ createSocket, clients: Number(process.env.BENCH_LIVE_CLIENTS ?? 300), log: console.log })
}
