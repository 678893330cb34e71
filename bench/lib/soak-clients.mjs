// @ts-check
// The soak's clients, the same in its Node clients' process (bench/lib/soak-node.mjs, `ws`
// injected as `WebSocket`) and in its Chromium page (bench/page/soak.js, the page's own
// WebSocket): their options, their streams, the open and close times the recovery figures
// come from, and the calls bench/soak.mjs makes to either of them.
import { createLedger } from './chaos.mjs'
import { seededRandom } from './stats.mjs'

/** Every soak client's options but `WebSocket` and `retry.random` (seeded per client): the chaos test's. */
export const CLIENT_OPTIONS = {
  heartbeat: { interval: 150, timeout: 300 },
  retry: { initialDelay: 50, maxDelay: 300 },
  connectTimeout: 1000,
  // Room for every frame of the run: the soak measures the faults, not the queue's bound.
  queue: { maxMessages: 1_000_000 },
}

/**
 * @typedef {{ status: string, queued: number, unacked: number, attempt: number }} ClientState
 * @typedef {{
 *   state: ClientState,
 *   send(message: unknown): boolean,
 *   deliver(message: unknown): Promise<unknown>,
 *   on(event: string, listener: (payload: any) => void): () => void,
 *   close(): void,
 * }} SoakSocket
 * @typedef {'open' | 'drained'} Condition `open`: every client open; `drained`: open with nothing queued or unacknowledged
 */

/** @type {Record<Condition, (state: ClientState) => boolean>} */
const CONDITIONS = {
  open: (state) => state.status === 'open',
  drained: (state) => state.status === 'open' && state.queued === 0 && state.unacked === 0,
}

/**
 * Opens clients `first` to `first + count - 1` on `url`. `start()` makes each of them, every
 * `every` ms, send its next numbered frame and deliver its next numbered message (recorded
 * in `ledger`).
 * @param {{ createSocket: (url: string, options: object) => SoakSocket, WebSocket: unknown, url: string, first: number, count: number, seed: number, every: number, ledger: ReturnType<typeof createLedger> }} options
 */
export function openClients({ createSocket, WebSocket, url, first, count, seed, every, ledger }) {
  /** @type {Record<string, number>} */
  const errors = {}
  const events = Array.from({ length: count }, (_, i) => ({ c: first + i, opens: /** @type {number[]} */ ([]), closes: /** @type {number[]} */ ([]) }))
  const sockets = events.map(({ c, opens, closes }) => {
    const socket = createSocket(url, { ...CLIENT_OPTIONS, WebSocket, retry: { ...CLIENT_OPTIONS.retry, random: seededRandom(seed * 1000 + c + 1) } })
    socket.on('open', () => opens.push(Date.now()))
    socket.on('close', () => closes.push(Date.now()))
    socket.on('error', (/** @type {Error} */ error) => (errors[error.name] = (errors[error.name] ?? 0) + 1))
    return socket
  })
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let stream
  /** The clients not in `condition`, a few of them with their state, for messages. @param {Condition} condition */
  const lagging = (condition) =>
    sockets.flatMap((socket, i) => {
      const { status, queued, unacked, attempt } = socket.state
      return CONDITIONS[condition](socket.state) ? [] : [{ c: first + i, status, queued, unacked, attempt }]
    })

  return {
    start() {
      stream ??= setInterval(() => sockets.forEach((socket, i) => ledger.tick(socket, first + i)), every)
    },
    stop() {
      clearInterval(stream)
    },
    lagging,
    /**
     * Resolves when every client is in `condition`, checked on each of their state changes; rejects after `ms`.
     * @param {Condition} condition
     * @param {number} ms
     */
    when(condition, ms) {
      return new Promise((resolve, reject) => {
        /** @type {(() => void)[]} */
        const offs = []
        const finish = (/** @type {Error | undefined} */ error) => {
          clearTimeout(timer)
          for (const off of offs) off()
          if (error) reject(error)
          else resolve(undefined)
        }
        const check = () => {
          if (sockets.every((socket) => CONDITIONS[condition](socket.state))) finish(undefined)
        }
        const timer = setTimeout(() => {
          const behind = lagging(condition)
          finish(new Error(`${behind.length} of ${count} clients not ${condition} after ${ms} ms: ${JSON.stringify(behind.slice(0, 5))}`))
        }, ms)
        for (const socket of sockets) offs.push(socket.on('state', () => queueMicrotask(check)))
        check()
      })
    },
    /** What the recovery times and the error counts need, as plain data. */
    report: () => ({ events, errors: { ...errors } }),
    close() {
      clearInterval(stream)
      for (const socket of sockets) socket.close()
    },
  }
}

/**
 * What bench/soak.mjs calls by name in the page and in the Node clients' process: clients
 * (`open`, then `start`…) whose sending side goes into a ledger of their own.
 * @param {(url: string, options: object) => SoakSocket} createSocket
 * @param {(ledger: ReturnType<typeof createLedger>) => unknown} recording the `WebSocket` class to use, recording what is written into `ledger`
 */
export function soakMethods(createSocket, recording) {
  const ledger = createLedger()
  const WebSocket = recording(ledger)
  /** @type {ReturnType<typeof openClients> | undefined} */
  let clients
  const opened = () => {
    if (!clients) throw new Error('soak: open() the clients first')
    return clients
  }
  return {
    /** @param {{ url: string, first: number, count: number, seed: number, every: number }} options */
    open(options) {
      clients = openClients({ ...options, createSocket, WebSocket, ledger })
    },
    start: () => opened().start(),
    stop: () => opened().stop(),
    /** @param {Condition} condition @param {number} ms */
    when: (condition, ms) => opened().when(condition, ms),
    /** @param {Condition} condition */
    lagging: (condition) => opened().lagging(condition),
    /** @param {number} ms */
    settled: (ms) => ledger.settled(ms),
    side: () => ledger.side(),
    report: () => opened().report(),
    ledgerBytes: () => ledger.bytes,
  }
}

/** @typedef {ReturnType<typeof remoteClients>} RemoteClients */

/**
 * The same calls made from bench/soak.mjs, through `call` (to the page or the Node clients' process).
 * @param {(name: string, ...args: unknown[]) => Promise<any>} call
 */
export function remoteClients(call) {
  return {
    /** @param {{ url: string, first: number, count: number, seed: number, every: number }} options */
    open: (options) => call('open', options),
    start: () => call('start'),
    stop: () => call('stop'),
    /** @param {Condition} condition @param {number} ms @returns {Promise<void>} */
    when: (condition, ms) => call('when', condition, ms),
    /** @param {Condition} condition @returns {Promise<ReturnType<ReturnType<typeof openClients>['lagging']>>} */
    lagging: (condition) => call('lagging', condition),
    /** @param {number} ms @returns {Promise<void>} */
    settled: (ms) => call('settled', ms),
    /** @returns {Promise<import('./chaos.mjs').LedgerSide>} */
    side: () => call('side'),
    /** @returns {Promise<ReturnType<ReturnType<typeof openClients>['report']>>} */
    report: () => call('report'),
    /** @returns {Promise<number>} */
    ledgerBytes: () => call('ledgerBytes'),
  }
}
