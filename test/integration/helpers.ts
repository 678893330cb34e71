import { afterEach } from 'vitest'
import WebSocket from 'ws'
import { createSocket, type SocketOptions, type SteadySocket } from '../../src/index'

const cleanups: (() => unknown)[] = []

/** Runs `fn` after the current test, whatever its outcome. */
export function cleanup(fn: () => unknown) {
  cleanups.push(fn)
}

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** A socket using the `ws` package as its WebSocket, closed after the test. */
export function connect<In = unknown, Out = unknown>(url: string | (() => string), options: SocketOptions<In, Out> = {}) {
  const socket = createSocket<In, Out>(url, { WebSocket, ...options })
  cleanup(() => socket.close())
  return socket
}

/** Resolves when `predicate` holds, checked now and on every event of the socket; rejects after `ms`. */
export function until(socket: SteadySocket<any, any>, predicate: () => boolean, what = 'condition', ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = []
    const done = (error?: Error) => {
      clearTimeout(timer)
      for (const off of offs) off()
      if (error) reject(error)
      else resolve()
    }
    const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms waiting for ${what}; state: ${JSON.stringify(socket.state)}`)), ms)
    const test = () => {
      if (predicate()) done()
    }
    for (const event of ['state', 'message', 'binary', 'close', 'error', 'open', 'reconnecting'] as const) offs.push(socket.on(event, () => queueMicrotask(test)))
    test()
  })
}

/** Records events as short strings, like the unit tests. */
export function record(socket: SteadySocket<any, any>) {
  const log: string[] = []
  socket.on('open', ({ reconnect }) => log.push(reconnect ? 'open:again' : 'open'))
  socket.on('close', ({ code, willReconnect }) => log.push(`close:${code}${willReconnect ? '' : ':final'}`))
  socket.on('reconnecting', ({ attempt }) => log.push(`reconnecting:${attempt}`))
  socket.on('error', (error) => log.push(`error:${error.name}`))
  return log
}
