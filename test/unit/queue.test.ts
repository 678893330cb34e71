import { describe, expect, test } from 'vitest'
import { createQueue, wireSize, type QueuedFrame } from '../../src/queue'

const frame = (value: string, at = 0, size = 0): QueuedFrame => ({ data: value, size, at, value })
const drain = (queue: ReturnType<typeof createQueue>, now = 0) => {
  const out: unknown[] = []
  const expired: QueuedFrame[] = []
  let next
  while ((next = queue.shift(now, expired))) out.push(next.value)
  return { out, expired: expired.map((f) => f.value) }
}

describe('createQueue', () => {
  test('is FIFO', () => {
    const queue = createQueue(10, Infinity, false, Infinity)
    for (const v of ['a', 'b', 'c']) queue.push(frame(v))
    expect(drain(queue)).toEqual({ out: ['a', 'b', 'c'], expired: [] })
    expect(queue.length).toBe(0)
  })

  test('drop-oldest returns the oldest frames past maxMessages', () => {
    const queue = createQueue(2, Infinity, false, Infinity)
    const dropped = ['a', 'b', 'c', 'd'].flatMap((v) => queue.push(frame(v)).map((f) => f.value))
    expect([dropped, drain(queue).out]).toEqual([['a', 'b'], ['c', 'd']])
  })

  test('drop-newest refuses new frames past maxMessages', () => {
    const queue = createQueue(2, Infinity, true, Infinity)
    const dropped = ['a', 'b', 'c'].flatMap((v) => queue.push(frame(v)).map((f) => f.value))
    expect([dropped, drain(queue).out]).toEqual([['c'], ['a', 'b']])
  })

  test('maxBytes drops oldest until the new frame fits, and refuses a frame larger than the bound', () => {
    const queue = createQueue(100, 10, false, Infinity)
    const pushed = [frame('a', 0, 4), frame('b', 0, 4), frame('c', 0, 4), frame('huge', 0, 11)].map((f) => queue.push(f).map((d) => d.value))
    expect(pushed).toEqual([[], [], ['a'], ['huge']])
    expect(drain(queue).out).toEqual(['b', 'c'])
  })

  test('a size-0 queue drops every frame it is given', () => {
    const queue = createQueue(0, Infinity, false, Infinity)
    expect(queue.push(frame('x')).map((f) => f.value)).toEqual(['x'])
    expect(queue.length).toBe(0)
  })

  test('shift skips frames older than ttl and hands them back as expired', () => {
    const queue = createQueue(10, Infinity, false, 1000)
    queue.push(frame('old', 0))
    queue.push(frame('edge', 1000))
    queue.push(frame('new', 1900))
    expect(drain(queue, 2000)).toEqual({ out: ['edge', 'new'], expired: ['old'] })
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
