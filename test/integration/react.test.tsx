// @vitest-environment happy-dom
import { act, cleanup, render } from '@testing-library/react'
import { StrictMode, useState } from 'react'
import type { SocketEventName, SocketEvents, SteadySocket } from 'steadysocket'
import { useSocket, useSocketState, useSubscription, type UseSocketOptions } from 'steadysocket/react'
import { afterEach, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { startServer, type TestServer } from '../server/index.js'

const WAIT = 5000

type In = { type: string; topic?: string; seq?: number; data?: string }
type Out = { type: string; topic: string }

const cleanups: Array<() => unknown> = []
/** Every socket a Room used: closed after each test, before its server stops, so none retries into the next test. */
const sockets = new Set<SteadySocket<In, Out>>()

afterEach(async () => {
  cleanup()
  for (const socket of sockets) socket.close()
  sockets.clear()
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function pubsub() {
  const server = await startServer({ mode: 'pubsub' })
  cleanups.push(() => server.close())
  return server
}

const frames = (server: TestServer) => server.log.map((entry) => `${entry.conn}:${entry.data}`)

const rendered = (container: HTMLElement) => Array.from(container.querySelectorAll('p'), (p) => p.textContent)

/** Resolves on the socket's next `event` whose payload passes `accept`; rejects after WAIT ms. */
function until<K extends SocketEventName>(socket: SteadySocket<In, Out>, event: K, accept: (payload: SocketEvents<In>[K]) => boolean) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching ${event} within ${WAIT} ms`)), WAIT)
    const off = socket.on(event, (payload) => {
      if (!accept(payload)) return
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}

/** Publishes on the server and waits until the socket has received the event. */
async function publish(server: TestServer, socket: SteadySocket<In, Out>, data: string) {
  const received = until(socket, 'message', (message) => message.type === 'event' && message.data === data)
  server.publish('lobby', data)
  await received
}

function Room(props: { url: string; options: UseSocketOptions<In, Out>; seen?: SteadySocket<In, Out>[] }) {
  const socket = useSocket<In, Out>(props.url, props.options)
  sockets.add(socket)
  props.seen?.push(socket)
  const status = useSocketState(socket, (state) => state.status)
  const [events, setEvents] = useState<string[]>([])
  useSubscription(
    socket,
    'room:lobby',
    {
      subscribe: { type: 'subscribe', topic: 'lobby' },
      unsubscribe: { type: 'unsubscribe', topic: 'lobby' },
      match: (message) => message.type === 'event' && message.topic === 'lobby',
    },
    (message) => setEvents((seen) => [...seen, String(message.data)]),
  )
  return <p>{[status, ...events].join(' ')}</p>
}

describe('React adapter against a real server', () => {
  test('opens exactly one server connection under StrictMode', async () => {
    const server = await pubsub()
    // Counted on the client too: a native socket closed while connecting may never reach the server.
    let constructed = 0
    class CountingWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args)
        constructed++
      }
    }
    const options = { WebSocket: CountingWebSocket }
    const seen: SteadySocket<In, Out>[] = []
    const view = render(
      <StrictMode>
        <Room url={server.url} options={options} seen={seen} />
        <Room url={server.url} options={options} seen={seen} />
      </StrictMode>,
    )
    await act(() => server.waitFor((s) => s.log.length === 1, WAIT))
    await act(() => publish(server, seen[0]!, 'hi'))
    expect([rendered(view.container), new Set(seen).size, constructed, server.totalConnections, server.connections, frames(server)]).toEqual([
      ['open hi', 'open hi'],
      1,
      1,
      1,
      1,
      ['1:{"type":"subscribe","topic":"lobby"}'],
    ])
  })

  test('reuses the connection when remounted within the grace period, and closes it after', async () => {
    const server = await pubsub()
    const options = { WebSocket }
    const seen: SteadySocket<In, Out>[] = []
    const first = render(<Room url={server.url} options={options} seen={seen} />)
    await act(() => server.waitFor((s) => s.log.length === 1, WAIT))
    first.unmount()
    const second = render(<Room url={server.url} options={options} seen={seen} />)
    const remounted = [rendered(second.container), seen[0] === seen.at(-1), server.totalConnections, server.connections]
    second.unmount()
    await server.waitFor((s) => s.connections === 0, WAIT)
    expect([remounted, server.closes.map(({ conn, code }) => `${conn}:${code}`), frames(server)]).toEqual([
      [['open'], true, 1, 1],
      ['1:1000'],
      ['1:{"type":"subscribe","topic":"lobby"}', '1:{"type":"unsubscribe","topic":"lobby"}'],
    ])
  })

  test('re-sends the subscription through the hook after the server drops the connection', async () => {
    const server = await pubsub()
    const options = { WebSocket, retry: { initialDelay: 20, jitter: 'none' as const } }
    const seen: SteadySocket<In, Out>[] = []
    const view = render(<Room url={server.url} options={options} seen={seen} />)
    await act(() => server.waitFor((s) => s.log.length === 1, WAIT))
    server.dropAll()
    await act(() => server.waitFor((s) => s.log.length === 2, WAIT))
    await act(() => publish(server, seen[0]!, 'back'))
    expect([rendered(view.container), server.totalConnections, frames(server)]).toEqual([
      ['open back'],
      2,
      ['1:{"type":"subscribe","topic":"lobby"}', '2:{"type":"subscribe","topic":"lobby"}'],
    ])
  })
})
