import { describe, expect, test } from 'vitest'
import { recordingWebSocket, startProxy, startServer } from '../server/index.js'
import { seededRandom } from '../../bench/lib/stats.mjs'
import { cleanup, connect, until } from './helpers'

// `npm test` runs 120 faults within 90 s (issue "delivery": ≥ 100); the soak sets CHAOS_FAULTS (DESIGN 10: ≥ 200).
const faults = Number(process.env.CHAOS_FAULTS ?? 120)
const seed = Number(process.env.CHAOS_SEED ?? 14)
const clients = 4
const budget = Math.max(60_000, faults * 600)

// A seeded PRNG (mulberry32): the same faults, in the same order, on every run.
const prng = (seed: number): (() => number) => seededRandom(seed)

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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

      // What each client wrote into a native socket, to tell a frame lost from the queue (a
      // bug) from one lost in a connection that died after it was written (allowed for send).
      const wire = Array.from({ length: clients }, () => [] as number[])
      const RecordingWebSocket = recordingWebSocket((text) => {
        if (!text.startsWith('{"kind":"send"')) return
        const item = JSON.parse(text) as Item
        wire[item.c]!.push(item.n)
      })
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

      // Per client: what send() queued (returned false) or wrote (true), and every delivery.
      const queued = sockets.map(() => new Set<number>())
      const written = sockets.map(() => new Set<number>())
      const deliveries: Promise<void>[] = []
      const delivered = sockets.map(() => 0)
      let n = 0
      const stream = setInterval(() => {
        n++
        sockets.forEach((socket, c) => {
          ;(socket.send({ kind: 'send', c, n }) ? written : queued)[c]!.add(n)
          delivered[c]!++
          const delivery = socket.deliver({ kind: 'deliver', c, n })
          // Settled below; a rejection must not count as unhandled meanwhile.
          delivery.catch(() => {})
          deliveries.push(delivery)
        })
      }, 20)
      cleanup(() => clearInterval(stream))

      const kinds = ['cut', 'blackhole', 'refuse', 'restart', 'drop', 'close-1012', 'latency', 'stall'] as const
      const counts: Record<string, number> = {}
      const timeline: string[] = []
      for (let i = 0; i < faults; i++) {
        const kind = kinds[Math.floor(random() * kinds.length)]!
        const lasting = 100 + Math.floor(random() * 700)
        counts[kind] = (counts[kind] ?? 0) + 1
        timeline.push(`${n}:${kind}`)
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
        await pause(50 + Math.floor(random() * 200))
      }
      clearInterval(stream)

      await Promise.all(sockets.map((s) => until(s, () => s.state.status === 'open' && s.state.queued === 0 && s.state.unacked === 0, 'open with nothing left to send', 20_000)))
      const settled = await Promise.race([
        Promise.allSettled(deliveries),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('deliveries still pending after the run')), 20_000).unref()),
      ])
      const items = server.log.filter((entry) => typeof entry.data === 'string' && entry.data.startsWith('{')).map((entry) => JSON.parse(entry.data as string) as Item)
      const arrivedSends = sockets.map((_, c) => items.filter((item) => item.kind === 'send' && item.c === c).map((item) => item.n))
      const arrivedDeliveries = sockets.map((_, c) => new Set(items.filter((item) => item.kind === 'deliver' && item.c === c).map((item) => item.n)))

      const arrived = sockets.map((_, c) => new Set(arrivedSends[c]))
      const onWire = sockets.map((_, c) => new Set(wire[c]))
      // Never written into any connection: lost from the queue itself.
      const queuedLost = sockets.flatMap((_, c) => [...queued[c]!].filter((k) => !arrived[c]!.has(k) && !onWire[c]!.has(k)).map((k) => `${c}:${k}`))
      const queuedLostInFlight = sockets.reduce((sum, _, c) => sum + [...queued[c]!].filter((k) => !arrived[c]!.has(k) && onWire[c]!.has(k)).length, 0)
      const writtenTwice = sockets.flatMap((_, c) => wire[c]!.filter((k, i, all) => all.indexOf(k) !== i).map((k) => `${c}:${k}`))
      const sentTwice = sockets.flatMap((_, c) => arrivedSends[c]!.filter((k, i, all) => all.indexOf(k) !== i).map((k) => `${c}:${k}`))
      // Order of first arrivals: a duplicate is counted above, not again here.
      const outOfOrder = sockets.filter((_, c) => [...arrived[c]!].some((k, i, all) => i > 0 && k < all[i - 1]!)).length
      const writtenLost = sockets.reduce((sum, _, c) => sum + [...written[c]!].filter((k) => !arrived[c]!.has(k)).length, 0)
      const deliveriesLost = sockets.flatMap((_, c) => Array.from({ length: delivered[c]! }, (_, k) => k + 1).filter((k) => !arrivedDeliveries[c]!.has(k)).map((k) => `${c}:${k}`))
      const deliveryCopies = items.filter((item) => item.kind === 'deliver').length
      const totalDeliveries = delivered.reduce((a, b) => a + b, 0)
      console.log(
        `chaos (seed ${seed}): ${faults} faults ${JSON.stringify(counts)}, ${server.totalConnections} connections; ` +
          `send: ${queued.reduce((a, s) => a + s.size, 0)} queued (${queuedLost.length} lost from the queue, ${queuedLostInFlight} lost in connections that died after the flush), ${written.reduce((a, s) => a + s.size, 0)} written at once (${writtenLost} lost in dead connections), ${writtenTwice.length} written twice, ${sentTwice.length} arrived twice, ${outOfOrder} clients out of order; ` +
          `deliver: ${totalDeliveries} (${deliveriesLost.length} lost, ${deliveryCopies - totalDeliveries + deliveriesLost.length} re-sent); errors ${JSON.stringify(errors)}`,
      )
      if (queuedLost.length || sentTwice.length) console.log(`faults by stream position: ${timeline.join(' ')}`)
      expect({ queuedLost, writtenTwice, sentTwice, outOfOrder, deliveriesLost }).toEqual({ queuedLost: [], writtenTwice: [], sentTwice: [], outOfOrder: 0, deliveriesLost: [] })
      expect(settled.filter((result) => result.status === 'rejected')).toEqual([])
    },
    budget,
  )
})
