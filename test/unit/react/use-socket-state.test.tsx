import { act, render } from '@testing-library/react'
import { StrictMode } from 'react'
import { createSocket, type SocketState, type SteadySocket } from 'steadysocket'
import { useSocket, useSocketState } from 'steadysocket/react'
import { describe, expect, test, vi } from 'vitest'
import { advance, server, useReactTest } from './helpers'

useReactTest()

describe('useSocketState', () => {
  test('renders every state the socket passes through', async () => {
    const { url, options, client } = server()
    const rendered: string[] = []
    function App() {
      const state = useSocketState(useSocket(url, options))
      rendered.push(`${state.status}:${state.attempt}`)
      return null
    }
    render(<App />)
    await advance()
    client().close({ code: 1006, reason: '', wasClean: false })
    await advance(500)
    expect(rendered).toEqual(['connecting:0', 'open:0', 'reconnecting:1', 'connecting:1', 'open:1'])
  })

  test('re-renders only when the selected value changes', async () => {
    const { url, options, env } = server()
    const renders = { all: 0, status: 0 }
    let socket!: SteadySocket<any, any>
    function All() {
      socket = useSocket(url, options)
      useSocketState(socket)
      renders.all++
      return null
    }
    function Status() {
      useSocketState(useSocket(url, options), (state) => state.status)
      renders.status++
      return null
    }
    render(
      <>
        <All />
        <Status />
      </>,
    )
    // Queued while connecting: state.queued changes, the status does not.
    act(() => void socket.send('a'))
    act(() => void socket.send('b'))
    await advance()
    act(() => env.signal('offline')) // state.online changes, the status stays 'open'
    expect(renders).toEqual({ all: 5, status: 2 })
  })

  test('accepts a selector that builds a new object, without a getSnapshot warning', async () => {
    const error = vi.spyOn(console, 'error')
    const { url, options } = server()
    function App() {
      const { status, queued } = useSocketState(useSocket(url, options), (state) => ({ status: state.status, queued: state.queued }))
      return <>{`${status}:${queued}`}</>
    }
    const view = render(
      <StrictMode>
        <App />
      </StrictMode>,
    )
    const before = view.container.textContent
    await advance()
    expect([before, view.container.textContent, error.mock.calls]).toEqual(['connecting:0', 'open:0', []])
  })

  test('follows the new socket when the socket argument changes', async () => {
    const a = server()
    const b = server()
    const first = createSocket(a.url, a.options)
    const second = createSocket(b.url, { ...b.options, lazy: true })
    const Status = (props: { socket: SteadySocket }) => <>{useSocketState(props.socket, (state: SocketState) => state.status)}</>
    const view = render(<Status socket={first} />)
    await advance()
    const seen = [view.container.textContent]
    view.rerender(<Status socket={second} />)
    seen.push(view.container.textContent!)
    await advance()
    second.connect()
    await advance()
    seen.push(view.container.textContent!)
    first.close()
    expect(seen).toEqual(['open', 'idle', 'open'])
  })
})
