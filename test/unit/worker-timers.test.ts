import { runInNewContext } from 'node:vm'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { createSocket } from 'steadysocket'
import { workerTimers } from 'steadysocket/worker-timers'
import { fakeEnvironment, useFakeTime } from './helpers'

useFakeTime()

/**
 * A dedicated worker that runs the real worker source (the text of the Blob the module
 * creates) in its own global scope, with the test's fake timers. Messages cross
 * asynchronously both ways, as with a real worker. `refuse` makes it fail to start the
 * way Chromium reports a CSP refusal: an `error` event after construction.
 */
class FakeWorker {
  static all: FakeWorker[] = []
  static refuse = false
  onmessage: ((event: { data: unknown }) => void) | null = null
  onerror: ((event: Event) => void) | null = null
  /** The worker's global scope: its timers table `t` shows what it still holds. */
  scope: Record<string, any>
  posted: unknown[] = []
  constructor(url: string) {
    FakeWorker.all.push(this)
    this.scope = {
      setTimeout,
      clearTimeout,
      postMessage: (data: unknown) => queueMicrotask(() => this.onmessage?.({ data })),
    }
    if (FakeWorker.refuse) {
      queueMicrotask(() => this.onerror?.(new Event('error')))
      return
    }
    runInNewContext(blobs.get(url)!, this.scope)
  }
  postMessage(data: unknown) {
    this.posted.push(data)
    if (!FakeWorker.refuse) queueMicrotask(() => this.scope.onmessage({ data }))
  }
}

const blobs = new Map<string, string>()

beforeEach(() => {
  FakeWorker.all = []
  FakeWorker.refuse = false
  blobs.clear()
  vi.stubGlobal('Worker', FakeWorker)
  // Blob contents are read synchronously here: the fake worker evaluates them at construction.
  vi.stubGlobal(
    'Blob',
    class {
      constructor(readonly parts: string[]) {}
    },
  )
  vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
    const url = `blob:test/${blobs.size}`
    blobs.set(url, (blob as unknown as { parts: string[] }).parts.join(''))
    return url
  })
})

afterEach(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms)

describe('workerTimers', () => {
  test('importing the entry creates no worker and no Blob URL', async () => {
    vi.resetModules()
    const module = await import('steadysocket/worker-timers')
    expect(typeof module.workerTimers).toBe('function')
    expect(FakeWorker.all).toHaveLength(0)
    expect(URL.createObjectURL).not.toHaveBeenCalled()
  })

  test('starts no worker until the first timer is set', async () => {
    const timers = workerTimers()
    await advance(1000)
    expect(FakeWorker.all).toHaveLength(0)
    timers.setTimeout(() => {}, 10)
    expect(FakeWorker.all).toHaveLength(1)
  })

  test('runs each callback once, after its delay, from a timer in the worker', async () => {
    const timers = workerTimers()
    const fired: string[] = []
    timers.setTimeout(() => fired.push('a'), 1000)
    timers.setTimeout(() => fired.push('b'), 500)
    await advance(499)
    expect(fired).toEqual([])
    await advance(1)
    expect(fired).toEqual(['b'])
    await advance(500)
    expect(fired).toEqual(['b', 'a'])
    await advance(5000)
    expect(fired).toEqual(['b', 'a'])
    expect(FakeWorker.all).toHaveLength(1)
    // The worker forgets timers that fired: nothing accumulates over hours of heartbeats.
    expect(Object.keys(FakeWorker.all[0]!.scope.t)).toEqual([])
  })

  test('clearTimeout cancels a pending callback and frees it in the worker', async () => {
    const timers = workerTimers()
    const fired: string[] = []
    const a = timers.setTimeout(() => fired.push('a'), 1000)
    timers.setTimeout(() => fired.push('b'), 1000)
    await advance(10)
    timers.clearTimeout(a)
    timers.clearTimeout(a)
    await advance(2000)
    expect(fired).toEqual(['b'])
    expect(Object.keys(FakeWorker.all[0]!.scope.t)).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  test('a callback may set the next timer (one worker serves them all)', async () => {
    const timers = workerTimers()
    let rounds = 0
    const round = () => {
      if (++rounds < 100) timers.setTimeout(round, 100)
    }
    timers.setTimeout(round, 100)
    await advance(100 * 100)
    expect(rounds).toBe(100)
    expect(FakeWorker.all).toHaveLength(1)
  })

  test('without Worker, runs on the page timers and says so in one debug line', async () => {
    vi.stubGlobal('Worker', undefined)
    const debug = vi.fn()
    const timers = workerTimers({ debug })
    const fired: string[] = []
    timers.setTimeout(() => fired.push('a'), 1000)
    const b = timers.setTimeout(() => fired.push('b'), 500)
    timers.clearTimeout(b)
    await advance(1000)
    timers.setTimeout(() => fired.push('c'), 10)
    await advance(10)
    expect(fired).toEqual(['a', 'c'])
    expect(debug.mock.calls).toEqual([['[steadysocket] workerTimers: page timers (no Worker)']])
    expect(vi.getTimerCount()).toBe(0)
  })

  test('when the worker fails to start (a CSP refusal), timers already set run on the page timers', async () => {
    FakeWorker.refuse = true
    const debug = vi.fn()
    const timers = workerTimers({ debug })
    const fired: string[] = []
    timers.setTimeout(() => fired.push('a'), 1000)
    const b = timers.setTimeout(() => fired.push('b'), 1000)
    await advance(0)
    expect(debug).toHaveBeenCalledTimes(1)
    timers.clearTimeout(b)
    timers.setTimeout(() => fired.push('c'), 1500)
    await advance(999)
    expect(fired).toEqual([])
    await advance(1)
    expect(fired).toEqual(['a'])
    await advance(500)
    expect(fired).toEqual(['a', 'c'])
    expect(FakeWorker.all).toHaveLength(1)
    expect(debug).toHaveBeenCalledTimes(1)
  })

  test('serves as the timers of createSocket through the environment option', async () => {
    // A socket that never opens: only the connect timeout, run by the worker, can end the attempt.
    class Stuck {
      readyState = 0
      onopen = null
      onclose = null
      onerror = null
      onmessage = null
      binaryType = 'blob'
      send() {}
      close() {}
    }
    const errors: string[] = []
    const socket = createSocket('ws://localhost:1', {
      WebSocket: Stuck,
      connectTimeout: 1000,
      retry: false,
      environment: { ...fakeEnvironment().environment, ...workerTimers() },
      on: { error: (error) => errors.push(error.message) },
    })
    await advance(999)
    expect(errors).toEqual([])
    await advance(1)
    expect(errors).toEqual([expect.stringContaining('connect timeout')])
    expect(socket.state.status).toBe('closed')
    expect(FakeWorker.all[0]!.posted[0]).toEqual([1, 1000])
  })
})
