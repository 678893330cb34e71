import { afterEach, expect, test, vi } from 'vitest'

afterEach(() => vi.restoreAllMocks())

test('importing the package touches no timers, Math.random, listeners or console', async () => {
  vi.resetModules()
  const spies = [
    vi.spyOn(Math, 'random'),
    vi.spyOn(globalThis, 'setTimeout'),
    vi.spyOn(globalThis, 'setInterval'),
    vi.spyOn(globalThis, 'queueMicrotask'),
    vi.spyOn(window, 'addEventListener'),
    vi.spyOn(document, 'addEventListener'),
    vi.spyOn(console, 'log'),
    vi.spyOn(console, 'warn'),
    vi.spyOn(console, 'error'),
    vi.spyOn(console, 'debug'),
  ]
  const WebSocketGetter = vi.fn()
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket')
  Object.defineProperty(globalThis, 'WebSocket', { configurable: true, get: WebSocketGetter })
  try {
    const module = await import('../../src/index')
    expect(typeof module.createSocket).toBe('function')
  } finally {
    if (saved) Object.defineProperty(globalThis, 'WebSocket', saved)
  }
  expect(spies.map((spy) => spy.mock.calls.length)).toEqual(spies.map(() => 0))
  expect(WebSocketGetter).not.toHaveBeenCalled()
})
