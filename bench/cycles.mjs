// @ts-check
// Sockets, timers and listeners after 1,000 reconnect cycles vs after 1 (DESIGN 10), with
// the built steadysocket against a real `ws` server on 127.0.0.1, plus the JS heap after
// a full GC. test/integration/leaks.test.ts asserts the same counts on the sources.
import { once } from 'node:events'
import { pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { WebSocket, WebSocketServer } from 'ws'
import { countingEnvironment } from '../test/server/index.js'
import { steadysocketBuild } from './lib/artifacts.mjs'

setFlagsFromString('--expose-gc')
const gc = /** @type {() => void} */ (runInNewContext('gc'))
const tick = (/** @type {number} */ ms = 0) => new Promise((resolve) => setTimeout(resolve, ms))

/** @param {() => boolean} condition @param {string} what */
async function waitFor(condition, what, ms = 5000) {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await tick(1)
  }
}

/**
 * @param {{ createSocket: Function, cycles?: number, log?: (line: string) => void }} options
 */
export async function runCycles({ createSocket, cycles = 1000, log = () => {} }) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', (ws) => ws.on('error', () => {}))
  const url = `ws://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (wss.address()).port}`

  /** @type {Set<WebSocket>} */
  const live = new Set()
  /** @type {WeakRef<WebSocket>[]} */
  const created = []
  class CountingWebSocket extends WebSocket {
    /** @param {string | URL} address @param {string | string[]} [protocols] */
    constructor(address, protocols) {
      super(address, protocols)
      live.add(this)
      created.push(new WeakRef(this))
      this.once('close', () => live.delete(this))
    }
  }
  const { listeners, timers, environment } = countingEnvironment()

  const socket = createSocket(url, {
    WebSocket: CountingWebSocket,
    environment,
    retry: { initialDelay: 0, jitter: 'none' },
    heartbeat: { interval: 60_000 },
    on: { error: () => {} },
  })
  const nextOpen = () =>
    new Promise((resolve) => {
      const off = socket.on('open', () => {
        off()
        resolve(undefined)
      })
    })
  let calls = 0
  socket.on('message', () => calls++)

  async function snapshot() {
    await waitFor(() => live.size === 1 && wss.clients.size === 1, 'one connection on each side')
    calls = 0
    for (const client of wss.clients) client.send('{"ping":1}')
    await waitFor(() => calls > 0, 'a message')
    let inMemory = Infinity
    for (let i = 0; i < 20 && inMemory > 1; i++) {
      await tick(10)
      gc()
      await new Promise((resolve) => setImmediate(resolve))
      inMemory = Math.min(inMemory, created.filter((ref) => ref.deref() !== undefined).length)
    }
    const [current] = live
    return {
      nativeSockets: live.size,
      nativeSocketsInMemory: inMemory,
      serverConnections: wss.clients.size,
      timers: timers.size,
      environmentListeners: listeners.size,
      nativeSocketListeners: ['open', 'message', 'close', 'error'].reduce((n, event) => n + (current?.listenerCount(event) ?? 0), 0) - 1,
      messageListenerCalls: calls,
      heapKiB: Math.round(process.memoryUsage().heapUsed / 1024),
    }
  }

  /** @param {'drop' | 'reconnect'} how */
  async function cycle(how) {
    const opened = nextOpen()
    socket.on('message', () => calls++)()
    if (how === 'drop') for (const client of wss.clients) client.terminate()
    else socket.reconnect()
    await opened
  }

  const results = []
  try {
    await nextOpen()
    for (const how of /** @type {const} */ (['drop', 'reconnect'])) {
      await cycle(how)
      const afterOne = await snapshot()
      const started = performance.now()
      for (let i = 1; i < cycles; i++) await cycle(how)
      const msPerCycle = (performance.now() - started) / (cycles - 1)
      const afterAll = await snapshot()
      // Another round of cycles, only to tell warm-up (JIT, buffer pools) from growth per cycle.
      for (let i = 0; i < cycles; i++) await cycle(how)
      const afterTwice = await snapshot()
      const same = Object.entries(afterOne).every(([key, value]) => key === 'heapKiB' || afterAll[/** @type {keyof typeof afterAll} */ (key)] === value)
      results.push({ how, cycles, afterOne, afterAll, same, msPerCycle, heapKiBAfterTwice: afterTwice.heapKiB })
      log(`${how.padEnd(9)} after 1: ${JSON.stringify(afterOne)}`)
      log(`${how.padEnd(9)} after ${cycles}: ${JSON.stringify(afterAll)}  ${same ? 'same' : 'DIFFERENT'} (${msPerCycle.toFixed(2)} ms/cycle)`)
      log(`${how.padEnd(9)} heap after 1 / ${cycles} / ${2 * cycles} cycles: ${afterOne.heapKiB} / ${afterAll.heapKiB} / ${afterTwice.heapKiB} KiB`)
    }
    socket.close()
    await waitFor(() => live.size === 0 && wss.clients.size === 0, 'every connection closed')
    const afterClose = { nativeSockets: live.size, serverConnections: wss.clients.size, timers: timers.size, environmentListeners: listeners.size }
    log(`after close(): ${JSON.stringify(afterClose)}`)
    return { results, afterClose }
  } finally {
    socket.close()
    for (const client of wss.clients) client.terminate()
    await new Promise((resolve) => wss.close(() => resolve(undefined)))
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { file, how } = await steadysocketBuild(console.log)
  console.log(`steadysocket: ${how}`)
  const { createSocket } = await import(pathToFileURL(file).href)
  await runCycles({ createSocket, cycles: Number(process.env.BENCH_CYCLES ?? 1000), log: console.log })
}
