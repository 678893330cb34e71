// @ts-check
// The chaos rig of test/integration/chaos.test.ts and `npm run soak` (bench/soak.mjs and its
// Chromium page): seeded faults through the test server and the fault proxy, numbered
// `send`/`deliver` streams, and the accounting of DESIGN 10. No Node imports: the soak's
// page loads this file too.

export const FAULT_KINDS = /** @type {const} */ (['cut', 'blackhole', 'refuse', 'restart', 'drop', 'close-1012', 'latency', 'stall'])

/**
 * @typedef {typeof FAULT_KINDS[number]} FaultKind
 * @typedef {{ kind: FaultKind, start: number, end: number }} Fault `Date.now()` when it began and when the path or the server was back
 * @typedef {Pick<import('../../test/server/index.js').TestServer, 'restart' | 'dropAll' | 'closeAll' | 'stall'>} ChaosServer
 * @typedef {Pick<import('../../test/server/index.js').FaultProxy, 'cut' | 'blackhole' | 'refuse' | 'delay'>} ChaosProxy
 */

const pause = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Seeded faults, one after another, until `faults` have run or `deadline` (`Date.now()`) has
 * passed. Each fault draws its kind and how long it lasts, then a pause of
 * `pause[0] + [0, pause[1])` ms follows; the draws are those of the chaos test's first
 * version, so a seed names the same faults in the same order.
 * @param {{ server: ChaosServer, proxy: ChaosProxy, random: () => number, faults?: number, deadline?: number, pause?: [number, number], onFault?: (kind: FaultKind) => void }} options
 * @returns {Promise<{ counts: Partial<Record<FaultKind, number>>, faults: Fault[] }>}
 */
export async function runFaults({ server, proxy, random, faults = Infinity, deadline = Infinity, pause: [pauseMin, pauseSpread] = [50, 200], onFault = () => {} }) {
  /** @type {Partial<Record<FaultKind, number>>} */
  const counts = {}
  /** @type {Fault[]} */
  const done = []
  for (let i = 0; i < faults && Date.now() < deadline; i++) {
    const kind = /** @type {FaultKind} */ (FAULT_KINDS[Math.floor(random() * FAULT_KINDS.length)])
    const lasting = 100 + Math.floor(random() * 700)
    counts[kind] = (counts[kind] ?? 0) + 1
    onFault(kind)
    const start = Date.now()
    if (kind === 'cut') proxy.cut()
    else if (kind === 'blackhole') {
      // Both sides stay up and hear nothing: a half-open connection only a heartbeat finds.
      // The path comes back without those connections (bytes swallowed mid-stream would
      // be a TCP stream with a hole, which no real network makes).
      proxy.blackhole(true)
      await pause(lasting)
      proxy.cut()
      proxy.blackhole(false)
    } else if (kind === 'refuse') {
      proxy.refuse(true)
      proxy.cut()
      await pause(lasting)
      proxy.refuse(false)
    } else if (kind === 'restart') await server.restart()
    else if (kind === 'drop') server.dropAll()
    else if (kind === 'close-1012') server.closeAll(1012, JSON.stringify({ retryAfter: 100 }))
    else if (kind === 'latency') {
      proxy.delay(50 + Math.floor(random() * 150))
      await pause(lasting)
      proxy.delay(0)
    } else {
      server.stall(true)
      proxy.cut()
      await pause(lasting)
      server.stall(false)
    }
    done.push({ kind, start, end: Date.now() })
    await pause(pauseMin + Math.floor(random() * pauseSpread))
  }
  return { counts, faults: done }
}

/** Per message number, how often something happened (0–255), in bytes that grow with the numbers: a long run holds counts, not frames. */
function counts() {
  let bytes = new Uint8Array(1024)
  return {
    /** @param {number} n */
    add(n) {
      if (n >= bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, n + 1))
        grown.set(bytes)
        bytes = grown
      }
      if (/** @type {number} */ (bytes[n]) < 255) bytes[n] = /** @type {number} */ (bytes[n]) + 1
    },
    /** @param {number} n */
    get: (n) => bytes[n] ?? 0,
    get size() {
      return bytes.byteLength
    },
  }
}

/** @typedef {ReturnType<typeof counts>} Counts */

/**
 * One client's side of the streams, as plain data (the page hands its clients over with
 * `page.evaluate`): how many it numbered, the numbers `send` queued (returned `false`), and
 * per number how often it was written into a native socket.
 * @typedef {{ c: number, sent: number, queued: number[], wire: number[] }} ClientSide
 * @typedef {{ clients: ClientSide[], rejected: Record<string, number>, pending: number }} LedgerSide
 */

/**
 * @typedef {{
 *   clients: number, queued: number, queuedLost: string[], queuedLostInFlight: number,
 *   writtenAtOnce: number, writtenLost: number, writtenTwice: string[], arrivedTwice: string[], outOfOrder: number,
 *   deliveries: number, deliveriesLost: string[], deliveriesResent: number, rejected: Record<string, number>, pending: number,
 * }} LedgerReport `c:n` names a message; lists hold every one found
 */

/**
 * The accounting of a chaos run. Every client `c` numbers its `send` frames and its
 * deliveries 1, 2, 3…; the ledger counts what `send` queued, what went into a native socket
 * (`wrote`, from `recordingWebSocket`) and what the server received (`arrived`/`absorb`), so it
 * can tell a frame lost from the queue (never written: a bug) from one lost in a connection
 * that died after it was written (allowed for `send`, DESIGN 5).
 */
export function createLedger() {
  /** @type {Map<number, { sent: number, queued: Counts, wire: Counts, arrived: Counts, highest: number, outOfOrder: boolean, delivered: Counts }>} the deliveries are numbered like the `send` frames, 1 to `sent` */
  const clients = new Map()
  /** @type {Record<string, number>} */
  const rejected = {}
  let pending = 0
  /** @type {Set<() => void>} */
  const whenSettled = new Set()

  const client = (/** @type {number} */ c) => {
    let record = clients.get(c)
    if (!record) {
      record = { sent: 0, queued: counts(), wire: counts(), arrived: counts(), highest: 0, outOfOrder: false, delivered: counts() }
      clients.set(c, record)
    }
    return record
  }
  const settle = () => {
    pending--
    if (pending === 0) for (const resolve of whenSettled) resolve()
  }
  /** @param {string} text a text frame the server received */
  const arrived = (text) => {
    if (!text.startsWith('{')) return
    const { kind, c, n } = /** @type {{ kind: string, c: number, n: number }} */ (JSON.parse(text))
    const record = client(c)
    if (kind === 'deliver') {
      record.delivered.add(n)
      return
    }
    // The order of first arrivals: a duplicate is counted as such, not again as disorder.
    if (record.arrived.get(n) === 0) {
      if (n < record.highest) record.outOfOrder = true
      record.highest = Math.max(record.highest, n)
    }
    record.arrived.add(n)
  }

  return {
    /**
     * One step of client `c`'s two streams: the next numbered `send` (at most once) and `deliver` (at least once).
     * @param {{ send(message: unknown): boolean, deliver(message: unknown): Promise<unknown> }} socket
     * @param {number} c
     */
    tick(socket, c) {
      const record = client(c)
      const n = ++record.sent
      if (!socket.send({ kind: 'send', c, n })) record.queued.add(n)
      pending++
      socket.deliver({ kind: 'deliver', c, n }).then(settle, (/** @type {Error} */ error) => {
        rejected[error.name] = (rejected[error.name] ?? 0) + 1
        settle()
      })
    },
    /** @param {string} text a text frame a client wrote into a native socket */
    wrote(text) {
      if (!text.startsWith('{"kind":"send"')) return
      const { c, n } = /** @type {{ c: number, n: number }} */ (JSON.parse(text))
      client(c).wire.add(n)
    },
    arrived,
    /**
     * Moves what the server received into the ledger and empties the server's log (and its closes and handshakes).
     * @param {Pick<import('../../test/server/index.js').TestServer, 'log' | 'clearLog'>} server
     */
    absorb(server) {
      for (const entry of server.log) if (typeof entry.data === 'string') arrived(entry.data)
      server.clearLog()
    },
    /** Resolves when no `deliver()` promise is pending; rejects after `ms`. @param {number} ms */
    settled(ms) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer)
          whenSettled.delete(done)
          resolve(undefined)
        }
        const timer = setTimeout(() => {
          whenSettled.delete(done)
          reject(new Error(`${pending} deliveries still pending after ${ms} ms`))
        }, ms)
        whenSettled.add(done)
        if (pending === 0) done()
      })
    },
    /** Bytes the counts take, to tell the ledger's own growth from the run's. */
    get bytes() {
      let total = 0
      for (const r of clients.values()) total += r.queued.size + r.wire.size + r.arrived.size + r.delivered.size
      return total
    },
    /** @returns {LedgerSide} the sending side, as plain data */
    side() {
      return {
        clients: [...clients].map(([c, r]) => ({
          c,
          sent: r.sent,
          queued: Array.from({ length: r.sent }, (_, k) => k + 1).filter((n) => r.queued.get(n) > 0),
          wire: Array.from({ length: r.sent + 1 }, (_, n) => r.wire.get(n)),
        })),
        rejected: { ...rejected },
        pending,
      }
    },
    /** Takes in the sending side of clients that ran elsewhere (the page), whose frames this ledger saw arrive. @param {LedgerSide} side */
    merge(side) {
      for (const { c, sent, queued, wire } of side.clients) {
        const record = client(c)
        record.sent = sent
        for (const n of queued) record.queued.add(n)
        wire.forEach((times, n) => {
          for (let k = 0; k < times; k++) record.wire.add(n)
        })
      }
      for (const [name, n] of Object.entries(side.rejected)) rejected[name] = (rejected[name] ?? 0) + n
      pending += side.pending
    },
    /** @returns {LedgerReport} */
    report() {
      /** @type {LedgerReport} */
      const r = { clients: clients.size, queued: 0, queuedLost: [], queuedLostInFlight: 0, writtenAtOnce: 0, writtenLost: 0, writtenTwice: [], arrivedTwice: [], outOfOrder: 0, deliveries: 0, deliveriesLost: [], deliveriesResent: 0, rejected: { ...rejected }, pending }
      let copies = 0
      for (const [c, record] of clients) {
        for (let n = 1; n <= record.sent; n++) {
          const arrivals = record.arrived.get(n)
          const writes = record.wire.get(n)
          if (record.queued.get(n) > 0) {
            r.queued++
            // Never written into any connection: lost from the queue itself.
            if (arrivals === 0 && writes === 0) r.queuedLost.push(`${c}:${n}`)
            else if (arrivals === 0) r.queuedLostInFlight++
          } else {
            r.writtenAtOnce++
            if (arrivals === 0) r.writtenLost++
          }
          if (writes > 1) r.writtenTwice.push(`${c}:${n}`)
          if (arrivals > 1) r.arrivedTwice.push(`${c}:${n}`)
        }
        if (record.outOfOrder) r.outOfOrder++
        for (let n = 1; n <= record.sent; n++) {
          copies += record.delivered.get(n)
          if (record.delivered.get(n) === 0) r.deliveriesLost.push(`${c}:${n}`)
        }
        r.deliveries += record.sent
      }
      r.deliveriesResent = copies - r.deliveries + r.deliveriesLost.length
      return r
    },
  }
}

/**
 * The figures of a ledger's report in one line, as the chaos test and the soak print them.
 * @param {LedgerReport} r
 */
export function describeLedger(r) {
  return (
    `send: ${r.queued} queued (${r.queuedLost.length} lost from the queue, ${r.queuedLostInFlight} lost in connections that died after the flush), ` +
    `${r.writtenAtOnce} written at once (${r.writtenLost} lost in dead connections), ${r.writtenTwice.length} written twice, ${r.arrivedTwice.length} arrived twice, ${r.outOfOrder} clients out of order; ` +
    `deliver: ${r.deliveries} (${r.deliveriesLost.length} lost, ${r.deliveriesResent} re-sent)`
  )
}
