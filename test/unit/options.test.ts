import { describe, expect, test } from 'vitest'
import { createSocket, type SocketOptions } from '../../src/index'
import { fakeEnvironment, mockServer } from './helpers'

const { WebSocket, url } = mockServer()
const make = (options: Record<string, unknown>) => () =>
  createSocket(url, { WebSocket, environment: fakeEnvironment().environment, lazy: true, ...(options as SocketOptions) })

describe('options are validated at creation', () => {
  test.each([
    [{ connectTimeout: '5s' }, TypeError, /option connectTimeout got "5s" — use a number/],
    [{ connectTimeout: -1 }, RangeError, /option connectTimeout got -1 — use a number ≥ 0/],
    [{ connectTimeout: Number.NaN }, TypeError, /connectTimeout got NaN/],
    [{ retry: { maxDelay: -5 } }, RangeError, /option retry.maxDelay got -5/],
    [{ retry: { jitter: 'some' } }, TypeError, /option retry.jitter got "some" — use "full", "equal" or "none"/],
    [{ retry: 'yes' }, TypeError, /option retry got "yes" — use a boolean, a number or an object/],
    [{ retry: { random: 0.5 } }, TypeError, /retry.random got 0.5 — use a function/],
    [{ queue: { overflow: 'drop-all' } }, TypeError, /queue.overflow got "drop-all"/],
    [{ queue: { maxMessages: -1 } }, RangeError, /queue.maxMessages got -1/],
    [{ heartbeat: { interval: '1s' } }, TypeError, /heartbeat.interval got "1s"/],
    [{ heartbeat: { isPong: 'pong' } }, TypeError, /heartbeat.isPong got "pong" — use a function/],
    [{ binaryType: 'buffer' }, TypeError, /binaryType got "buffer" — use "arraybuffer" or "blob"/],
    [{ lazy: 'no' }, TypeError, /option lazy got "no" — use a boolean/],
    [{ codec: 'xml' }, TypeError, /option codec got "xml"/],
    [{ codec: { encode: JSON.stringify } }, TypeError, /option codec got an object — use "json", "text" or \{ encode, decode \}/],
    [{ validate: 42 }, TypeError, /option validate got 42 — use a Standard Schema or a type guard/],
    [{ protocols: 7 }, TypeError, /option protocols got 7/],
    [{ shouldReconnect: true }, TypeError, /shouldReconnect got true — use a function/],
    [{ request: { idField: 3 } }, TypeError, /request.idField got 3 — use a string/],
    [{ environment: { online: true } }, TypeError, /option environment got an object — use an object with online\(\) and listen\(\)/],
    [{ debug: 'verbose' }, TypeError, /option debug got "verbose"/],
  ])('%o is refused', (options, ErrorClass, message) => {
    expect(make(options)).toThrow(ErrorClass)
    expect(make(options)).toThrow(message)
  })

  test('a url that is neither a string, a URL nor a function is a TypeError', () => {
    expect(() => createSocket(42 as never, { WebSocket })).toThrow(/option url got 42/)
  })

  test('a missing WebSocket implementation says how to pass one', () => {
    const saved = globalThis.WebSocket
    // @ts-expect-error simulating a runtime without WebSocket
    delete globalThis.WebSocket
    try {
      expect(() => createSocket(url)).toThrow(/option WebSocket got undefined — use a WebSocket constructor function: this runtime has none \(in Node pass the "ws" package\)/)
    } finally {
      globalThis.WebSocket = saved
    }
  })

  test('accepts the shorthands', () => {
    for (const options of [{ retry: false }, { retry: 3 }, { retry: true }, { queue: false }, { heartbeat: true }, { heartbeat: false }])
      expect(make(options)().state.status).toBe('idle')
  })
})
