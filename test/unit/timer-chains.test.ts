import { describe, expect, test, vi } from 'vitest'
import { createSocket, type SocketOptions } from '../../src/index'
import { fakeEnvironment, mockServer, useFakeTime } from './helpers'

// Issue 11, point 1: Chrome throttles *chained* timers in hidden pages (a timer set inside a
// timer callback, five deep and more) to one wake-up a minute. Every core timer must be
// one-shot and armed from a network or page event, so no chain ever grows: here a timer
// set while no timer callback runs has depth 1, and one set inside the callback of a timer
// of depth d has depth d + 1, as the HTML timer nesting level counts. mock-socket delivers
// network events from its own timers, outside these, like a browser's network task.

useFakeTime()

/** `environment` timers that record the deepest nesting of any timer the socket sets. */
function nestingTimers() {
  let running = 0
  let deepest = 0
  let count = 0
  return {
    get deepest() {
      return deepest
    },
    get count() {
      return count
    },
    setTimeout(fn: () => void, ms: number) {
      const depth = running + 1
      deepest = Math.max(deepest, depth)
      count++
      return setTimeout(() => {
        const outer = running
        running = depth
        try {
          fn()
        } finally {
          running = outer
        }
      }, ms)
    },
    clearTimeout: (id: ReturnType<typeof setTimeout>) => clearTimeout(id),
  }
}

function start(options: SocketOptions, mock = mockServer()) {
  const timers = nestingTimers()
  const socket = createSocket(mock.url, {
    WebSocket: mock.WebSocket,
    retry: { initialDelay: 10, maxDelay: 10, jitter: 'none' },
    ...options,
    environment: { ...fakeEnvironment().environment, setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout },
  })
  let opens = 0
  socket.on('open', () => opens++)
  // Failed attempts are expected here; a listener keeps them off console.warn.
  socket.on('error', () => {})
  return { mock, socket, timers, opens: () => opens }
}

/** Advances fake time in `step` ms slices until `done()`, at most `limit` ms. */
async function until(done: () => boolean, step: number, limit: number) {
  for (let elapsed = 0; !done() && elapsed < limit; elapsed += step) await vi.advanceTimersByTimeAsync(step)
}

const pongs = (mock: ReturnType<typeof mockServer>) =>
  mock.server.on('connection', (client) => client.on('message', (data) => data === 'ping' && client.send('pong')))

describe('no timer chains', () => {
  test('1,000 reconnect cycles after drops arm no timer deeper than 2', async () => {
    const { mock, socket, timers, opens } = start({})
    for (let cycle = 1; cycle <= 1000; cycle++) {
      await until(() => opens() === cycle && socket.state.status === 'open', 5, 1000)
      mock.client().close({ code: 1006, reason: '', wasClean: false })
    }
    await until(() => opens() === 1001, 5, 1000)

    expect(opens()).toBe(1001)
    expect(timers.count).toBeGreaterThan(2000)
    expect(timers.deepest).toBeLessThanOrEqual(2)
  })

  test('1,000 failed attempts against a refusing server arm no timer deeper than 2', async () => {
    const mock = mockServer()
    mock.stop()
    const { socket, timers } = start({}, mock)
    await until(() => socket.state.attempt >= 1000, 10, 1000 * 100)

    expect(socket.state.attempt).toBeGreaterThanOrEqual(1000)
    expect(timers.deepest).toBeLessThanOrEqual(2)
  })

  test('1,000 heartbeat rounds arm no timer deeper than 2', async () => {
    const mock = mockServer()
    pongs(mock)
    const { socket, timers } = start({ heartbeat: { interval: 1000, timeout: 500 } }, mock)
    const pings = () => mock.wire.filter((frame) => frame === 'ping').length
    await until(() => pings() >= 1000, 1000, 1000 * 2000)

    expect(pings()).toBeGreaterThanOrEqual(1000)
    expect(socket.state.status).toBe('open')
    expect(mock.created).toHaveLength(1)
    expect(timers.deepest).toBeLessThanOrEqual(2)
  })

  test("1,000 heartbeat rounds with mode 'always' while the server streams arm no timer deeper than 2", async () => {
    const mock = mockServer()
    pongs(mock)
    // The stream runs on the page's own timers, as frames arrive from the network.
    const stream = setInterval(() => mock.server.clients().forEach((client) => client.send('{"tick":1}')), 250)
    const { socket, timers } = start({ heartbeat: { interval: 1000, timeout: 500, mode: 'always' } }, mock)
    const pings = () => mock.wire.filter((frame) => frame === 'ping').length
    await until(() => pings() >= 1000, 1000, 1000 * 2000)
    clearInterval(stream)

    expect(pings()).toBeGreaterThanOrEqual(1000)
    expect(socket.state.status).toBe('open')
    expect(mock.created).toHaveLength(1)
    expect(timers.deepest).toBeLessThanOrEqual(2)
  })
})
