import { act, cleanup } from '@testing-library/react'
import { afterEach, vi } from 'vitest'
import type { SocketOptions } from 'steadysocket'
import { fakeEnvironment, mockServer, tick, useFakeTime } from '../helpers'

/** Fake timers for every test; afterwards, unmounts what was rendered, lets grace periods end and restores spies. */
export function useReactTest() {
  useFakeTime()
  afterEach(async () => {
    cleanup()
    await vi.advanceTimersByTimeAsync(1000)
    vi.restoreAllMocks()
  })
}

/** `tick` inside `act`: advances fake time by `ms` plus the few ms mock-socket needs, then renders. */
export const advance = (ms = 0) => act(() => tick(ms))

/** A mock server plus the options that point a socket at it (one options object: no "options differ" warning). */
export function server() {
  const mock = mockServer()
  const env = fakeEnvironment()
  const options: SocketOptions<any, any> = { WebSocket: mock.WebSocket, environment: env.environment, retry: { initialDelay: 500, factor: 2, jitter: 'none' } }
  return { ...mock, env, options }
}
