import { describe, expect, test } from 'vitest'
import { recordingWebSocket, startProxy, startServer } from '../server/index.js'
import { createLedger, describeLedger, runFaults } from '../../bench/lib/chaos.mjs'
import { seededRandom } from '../../bench/lib/stats.mjs'
import { cleanup, connect, until } from './helpers'

// `npm test` runs 120 faults within 90 s (issue "delivery": ≥ 100); CHAOS_FAULTS=200 meets DESIGN 10 (≥ 200). The
// same rig (bench/lib/chaos.mjs) runs 1,000 faults and more under 54 clients in `npm run soak` (bench/soak.mjs).
const faults = Number(process.env.CHAOS_FAULTS ?? 120)
const seed = Number(process.env.CHAOS_SEED ?? 14)
const clients = 4
const budget = Math.max(60_000, faults * 600)

// A seeded PRNG (mulberry32): the same faults, in the same order, on every run.
const prng = (seed: number): (() => number) => seededRandom(seed)

type Item = { kind: 'send' | 'deliver'; c: number; n: number; id?: string }

describe('a seeded chaos run', () => {
  test(
    `${faults} faults (cuts, half-open blackholes, refusals, restarts, 1012 closes, latency, stalled upgrades) with the heartbeat on: no queued frame lost, nothing sent twice by send, no delivery lost`,
    async () => {
      const random = prng(seed)
      const server = await startServer({ mode: 'echo' })
      cleanup(() => server.close())
      const proxy = await startProxy({ target: server })
      cleanup(() => proxy.close())

      const ledger = createLedger()
      const RecordingWebSocket = recordingWebSocket(ledger.wrote)
      const sockets = Array.from({ length: clients }, () =>
        connect<Item, Item>(proxy.url, {
          WebSocket: RecordingWebSocket,
          heartbeat: { interval: 150, timeout: 300 },
          retry: { initialDelay: 50, maxDelay: 300, random: prng(seed + 1) },
          connectTimeout: 1000,
          // Room for every frame of the run: this measures the faults, not the queue's bound.
          queue: { maxMessages: 1_000_000 },
        }),
      )
      await Promise.all(sockets.map((s) => until(s, () => s.state.status === 'open', 'open')))
      const errors: Record<string, number> = {}
      for (const socket of sockets) socket.on('error', (error) => (errors[error.name] = (errors[error.name] ?? 0) + 1))

      // Every tick, each client sends its next numbered frame and delivers its next numbered message.
      let n = 0
      const stream = setInterval(() => {
        n++
        sockets.forEach((socket, c) => ledger.tick(socket, c))
      }, 20)
      cleanup(() => clearInterval(stream))

      const timeline: string[] = []
      const { counts } = await runFaults({ server, proxy, random, faults, onFault: (kind) => timeline.push(`${n}:${kind}`) })
      clearInterval(stream)

      await Promise.all(sockets.map((s) => until(s, () => s.state.status === 'open' && s.state.queued === 0 && s.state.unacked === 0, 'open with nothing left to send', 20_000)))
      await ledger.settled(20_000)
      ledger.absorb(server)
      const report = ledger.report()
      console.log(`chaos (seed ${seed}): ${faults} faults ${JSON.stringify(counts)}, ${server.totalConnections} connections; ${describeLedger(report)}; errors ${JSON.stringify(errors)}`)
      if (report.queuedLost.length || report.arrivedTwice.length) console.log(`faults by stream position: ${timeline.join(' ')}`)
      const { queuedLost, writtenTwice, arrivedTwice: sentTwice, outOfOrder, deliveriesLost } = report
      expect({ queuedLost, writtenTwice, sentTwice, outOfOrder, deliveriesLost }).toEqual({ queuedLost: [], writtenTwice: [], sentTwice: [], outOfOrder: 0, deliveriesLost: [] })
      expect(report.rejected).toEqual({})
    },
    budget,
  )
})
