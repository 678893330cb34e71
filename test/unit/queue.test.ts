import { describe, expect, test } from 'vitest'
import { createQueue, wireSize, type QueuedFrame } from '../../src/queue'

let seq = 0
const frame = (value: string, expires = Infinity, size = 0, id?: string): QueuedFrame => ({ data: value, size, expires, value, seq: ++seq, id })
/** Writes what the queue hands out, as the socket does: `send` frames leave, deliveries stay marked as sent. */
const drain = (queue: ReturnType<typeof createQueue>, now = 0, deliveries = true) => {
  const out: unknown[] = []
  const expired: QueuedFrame[] = []
  let next
  while ((next = queue.next(now, expired, deliveries))) {
    out.push(next.value)
    if (next.id) next.sent = true
    else queue.remove(next)
  }
  return { out, expired: expired.map((f) => f.value) }
}

describe('createQueue', () => {
  test('is FIFO', () => {
    const queue = createQueue(10, Infinity, false)
    for (const v of ['a', 'b', 'c']) queue.push(frame(v))
    expect(drain(queue)).toEqual({ out: ['a', 'b', 'c'], expired: [] })
    expect(queue.frames.length).toBe(0)
  })

  test('drop-oldest returns the oldest frames past maxMessages', () => {
    const queue = createQueue(2, Infinity, false)
    const dropped = ['a', 'b', 'c', 'd'].flatMap((v) => queue.push(frame(v)).map((f) => f.value))
    expect([dropped, drain(queue).out]).toEqual([['a', 'b'], ['c', 'd']])
  })

  test('drop-newest refuses new frames past maxMessages', () => {
    const queue = createQueue(2, Infinity, true)
    const dropped = ['a', 'b', 'c'].flatMap((v) => queue.push(frame(v)).map((f) => f.value))
    expect([dropped, drain(queue).out]).toEqual([['c'], ['a', 'b']])
  })

  test('maxBytes drops oldest until the new frame fits, and refuses a frame larger than the bound', () => {
    const queue = createQueue(100, 10, false)
    const pushed = [frame('a', Infinity, 4), frame('b', Infinity, 4), frame('c', Infinity, 4), frame('huge', Infinity, 11)].map((f) => queue.push(f).map((d) => d.value))
    expect(pushed).toEqual([[], [], ['a'], ['huge']])
    expect(drain(queue).out).toEqual(['b', 'c'])
  })

  test('a size-0 queue drops every frame it is given', () => {
    const queue = createQueue(0, Infinity, false)
    expect(queue.push(frame('x')).map((f) => f.value)).toEqual(['x'])
    expect(queue.frames.length).toBe(0)
  })

  test('next skips frames past their expiry and hands them back as expired', () => {
    const queue = createQueue(10, Infinity, false)
    queue.push(frame('old', 1000))
    queue.push(frame('edge', 2001))
    queue.push(frame('new', 2900))
    expect(drain(queue, 2000)).toEqual({ out: ['edge', 'new'], expired: ['old'] })
  })

  test('deliveries stay until removed, and a full window stops the walk at the first one', () => {
    const queue = createQueue(10, Infinity, false)
    for (const f of [frame('a'), frame('d1', Infinity, 0, 'd1'), frame('b')]) queue.push(f)
    expect(drain(queue, 0, false).out).toEqual(['a'])
    expect(drain(queue, 0, true).out).toEqual(['d1', 'b'])
    expect([queue.frames.map((f) => f.value), queue.waiting()]).toEqual([['d1'], 0])
  })

  test('restore puts frames back in the order of the calls, around the deliveries still queued', () => {
    const queue = createQueue(10, Infinity, false)
    const [a, d, b] = [frame('a'), frame('d', Infinity, 0, 'd'), frame('b')]
    for (const f of [a, d, b]) queue.push(f)
    drain(queue)
    queue.frames.forEach((f) => (f.sent = false))
    queue.restore([b, a])
    expect([drain(queue).out, queue.waiting()]).toEqual([['a', 'd', 'b'], 0])
  })
})

describe('wireSize', () => {
  test('counts UTF-8 bytes of text and byteLength or size of binary', () => {
    expect([wireSize('abc'), wireSize('é'), wireSize('€'), wireSize('😀'), wireSize(new Uint8Array(7)), wireSize(new ArrayBuffer(5)), wireSize(new Blob(['xyz']))]).toEqual([
      3,
      new TextEncoder().encode('é').length,
      new TextEncoder().encode('€').length,
      new TextEncoder().encode('😀').length,
      7,
      5,
      3,
    ])
  })
})
