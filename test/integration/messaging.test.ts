import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { TimeoutError } from '../../src/index'
import { startServer } from '../server/index.js'
import { cleanup, connect, until } from './helpers'

const fast = { initialDelay: 50, maxDelay: 200, jitter: 'none' as const }

const Incoming = z.union([
  z.object({ type: z.literal('event'), topic: z.string(), seq: z.number(), data: z.unknown() }),
  z.object({ type: z.literal('subscribed'), topic: z.string() }),
  z.object({ id: z.string(), result: z.unknown().optional(), error: z.string().optional() }),
])
type In = z.infer<typeof Incoming>
type Out = { type: 'subscribe' | 'unsubscribe'; topic: string; from?: number } | { type: 'note'; n: number } | { method: string; params?: unknown }

async function pubsub() {
  const server = await startServer({ mode: 'pubsub' })
  cleanup(() => server.close())
  return server
}

const frames = (log: { data: unknown }[]) => log.map((entry) => JSON.parse(String(entry.data)))

describe('subscriptions and requests against a real pub/sub server', () => {
  test('after a restart the server sees each subscribe once, then the queued frames in order, and publications flow again', async () => {
    const server = await pubsub()
    const socket = connect<In, Out>(server.url, { retry: fast, validate: Incoming })
    const seen: Record<string, number[]> = { a: [], b: [], c: [] }
    for (const topic of ['a', 'b', 'c'])
      socket.subscribe(topic, { subscribe: { type: 'subscribe', topic }, unsubscribe: { type: 'unsubscribe', topic }, match: (m) => 'topic' in m && m.type === 'event' && m.topic === topic }, (m) => {
        if ('seq' in m) seen[topic]!.push(m.seq)
      })
    await until(socket, () => socket.state.status === 'open')
    await server.waitForLog(3)
    server.publish('a', 'before')
    await until(socket, () => seen.a!.length === 1, 'the first publication')

    await server.stop()
    await until(socket, () => socket.state.status === 'reconnecting')
    for (let n = 1; n <= 5; n++) socket.send({ type: 'note', n })
    server.clearLog()
    await server.start()
    await server.waitForLog(8)
    await until(socket, () => socket.state.status === 'open')

    expect(frames(server.log)).toEqual([
      { type: 'subscribe', topic: 'a' },
      { type: 'subscribe', topic: 'b' },
      { type: 'subscribe', topic: 'c' },
      ...[1, 2, 3, 4, 5].map((n) => ({ type: 'note', n })),
    ])
    expect(new Set(server.log.map((entry) => entry.conn)).size).toBe(1)
    for (const topic of ['a', 'b', 'c']) server.publish(topic, 'after')
    await until(socket, () => seen.a!.length === 2 && seen.b!.length === 1 && seen.c!.length === 1, 'publications after the restart')
    expect(seen).toEqual({ a: [1, 2], b: [1], c: [1] })
  })

  test('a function subscribe resumes from the last offset the app saw, and the server replays what was missed', async () => {
    const server = await pubsub()
    const socket = connect<In, Out>(server.url, { retry: fast })
    let last = 0
    const received: number[] = []
    socket.subscribe('feed', { subscribe: () => ({ type: 'subscribe', topic: 'feed', from: last }), match: (m) => 'seq' in m }, (m) => {
      if ('seq' in m) received.push((last = m.seq))
    })
    await until(socket, () => socket.state.status === 'open')
    await server.waitForLog(1)
    server.publish('feed', 1)
    server.publish('feed', 2)
    await until(socket, () => received.length === 2)
    await server.stop()
    server.publish('feed', 3)
    server.publish('feed', 4)
    await server.start()
    await until(socket, () => received.length === 4, 'the replay of missed events')
    expect(received).toEqual([1, 2, 3, 4])
    expect(frames(server.log).filter((f) => f.type === 'subscribe')).toEqual([
      { type: 'subscribe', topic: 'feed', from: 0 },
      { type: 'subscribe', topic: 'feed', from: 2 },
    ])
  })

  test('requests resolve with their replies, which are not emitted as messages; a timeout rejects', async () => {
    const server = await pubsub()
    const socket = connect<In, Out>(server.url)
    const messages: unknown[] = []
    socket.on('message', (m) => messages.push(m))
    const [sum, echo] = await Promise.all([socket.request({ method: 'add', params: [2, 3] }), socket.request({ method: 'echo', params: { x: 1 } })])
    expect([sum, echo]).toMatchObject([{ result: 5 }, { result: { x: 1 } }])
    await expect(socket.request({ method: 'delay', params: { ms: 2000 } }, { timeout: 100 })).rejects.toBeInstanceOf(TimeoutError)
    expect(messages).toEqual([])
  })

  test('a request made while the server is down is sent on reconnect and answered', async () => {
    const server = await pubsub()
    const socket = connect<In, Out>(server.url, { retry: fast })
    await until(socket, () => socket.state.status === 'open')
    await server.stop()
    await until(socket, () => socket.state.status === 'reconnecting')
    const reply = socket.request({ method: 'add', params: [40, 2] }, { timeout: 5000 })
    await server.start()
    await expect(reply).resolves.toMatchObject({ result: 42 })
  })
})
