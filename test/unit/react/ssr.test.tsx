import { act } from '@testing-library/react'
import { StrictMode } from 'react'
import { hydrateRoot, type Root } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { createSocket } from 'steadysocket'
import {
  SocketProvider,
  useSocket,
  useSocketContext,
  useSocketEvent,
  useSocketState,
  useSubscription,
} from 'steadysocket/react'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { advance, server, useReactTest } from './helpers'

useReactTest()

const native = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket')!
afterEach(() => {
  Object.defineProperty(globalThis, 'WebSocket', native)
})

/** Makes any read of the `WebSocket` global throw, as it would on a server without one. */
function forbidWebSocket() {
  Object.defineProperty(globalThis, 'WebSocket', {
    configurable: true,
    get() {
      throw new Error('WebSocket read during server rendering')
    },
  })
}

function Messages() {
  const socket = useSocketContext<{ text: string }, { type: string }>()
  const status = useSocketState(socket, (state) => state.status)
  useSubscription(socket, 'chat', { subscribe: { type: 'join' } })
  useSocketEvent(socket, 'message', () => {})
  return <p>{status}</p>
}

describe('server rendering', () => {
  test('renders every hook as idle without reading WebSocket or warning, then connects on hydration', async () => {
    const { url, env, WebSocket, created, wire } = server()
    const options = { environment: env.environment }
    function App() {
      const socket = useSocket(url, options)
      return (
        <SocketProvider socket={socket}>
          <Messages />
        </SocketProvider>
      )
    }
    const error = vi.spyOn(console, 'error')
    const warn = vi.spyOn(console, 'warn')
    forbidWebSocket()
    const html = renderToString(
      <StrictMode>
        <App />
      </StrictMode>,
    )
    const container = document.createElement('div')
    container.innerHTML = html
    Object.defineProperty(globalThis, 'WebSocket', { configurable: true, value: WebSocket })
    let root!: Root
    act(() => {
      root = hydrateRoot(
        container,
        <StrictMode>
          <App />
        </StrictMode>,
      )
    })
    await advance()
    const hydrated = container.innerHTML
    act(() => root.unmount())
    expect([html, hydrated, created.length, wire, error.mock.calls, warn.mock.calls]).toEqual([
      '<p>idle</p>',
      '<p>open</p>',
      1,
      ['{"type":"join"}'],
      [],
      [],
    ])
  })

  test('reports idle on the server for a socket created outside React that is open', async () => {
    const { url, options } = server()
    const socket = createSocket(url, options)
    await advance()
    const Status = () => <p>{useSocketState(socket).status}</p>
    expect([socket.state.status, renderToString(<Status />)]).toEqual(['open', '<p>idle</p>'])
  })
})
