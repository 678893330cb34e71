import { act, render } from '@testing-library/react'
import { useState } from 'react'
import { createSocket, type SocketEventName, type SteadySocket } from 'steadysocket'
import { useSocketEvent } from 'steadysocket/react'
import { describe, expect, test, vi } from 'vitest'
import { advance, server, useReactTest } from './helpers'

useReactTest()

async function openSocket() {
  const mock = server()
  const socket = createSocket<{ n: number }, unknown>(mock.url, mock.options)
  await advance()
  return { ...mock, socket }
}

function Listener(props: { socket: SteadySocket<{ n: number }>; label: string; calls: string[] }) {
  useSocketEvent(props.socket, 'message', (message) => props.calls.push(`${props.label}:${message.n}`))
  return null
}

describe('useSocketEvent', () => {
  test('calls the latest handler without subscribing again on re-render', async () => {
    const { socket, client } = await openSocket()
    const on = vi.spyOn(socket, 'on')
    const calls: string[] = []
    const view = render(<Listener socket={socket} label="first" calls={calls} />)
    view.rerender(<Listener socket={socket} label="second" calls={calls} />)
    view.rerender(<Listener socket={socket} label="third" calls={calls} />)
    client().send('{"n":1}')
    expect([calls, on.mock.calls.map(([event]) => event)]).toEqual([['third:1'], ['message']])
  })

  test('delivers a burst of 1,000 messages in one tick to the handler 1,000 times', async () => {
    const { socket, client } = await openSocket()
    let calls = 0
    function Counter() {
      const [count, setCount] = useState(0)
      useSocketEvent(socket, 'message', () => {
        calls++
        setCount((n) => n + 1)
      })
      return <>{count}</>
    }
    const view = render(<Counter />)
    act(() => {
      for (let n = 0; n < 1000; n++) client().send(`{"n":${n}}`)
    })
    expect([calls, view.container.textContent]).toEqual([1000, '1000'])
  })

  test('stops listening when the component unmounts', async () => {
    const { socket, client } = await openSocket()
    const calls: string[] = []
    const view = render(<Listener socket={socket} label="mounted" calls={calls} />)
    client().send('{"n":1}')
    view.unmount()
    client().send('{"n":2}')
    expect(calls).toEqual(['mounted:1'])
  })

  test('moves to the new event when the event name changes', async () => {
    const { socket } = await openSocket()
    const calls: string[] = []
    function Any(props: { event: SocketEventName }) {
      useSocketEvent(socket, props.event, () => calls.push(props.event))
      return null
    }
    const view = render(<Any event="open" />)
    view.rerender(<Any event="close" />)
    act(() => socket.reconnect())
    await advance()
    expect(calls).toEqual(['close'])
  })
})
