import { act, render } from '@testing-library/react'
import { StrictMode } from 'react'
import { createSocket, type SteadySocket } from 'steadysocket'
import { useSocket, useSubscription } from 'steadysocket/react'
import { describe, expect, test } from 'vitest'
import { advance, server, useReactTest } from './helpers'

useReactTest()

type In = { topic: string; n: number }
type Out = { type: string; topic: string; from?: number }

const room = (topic: string) => ({
  subscribe: { type: 'sub', topic },
  unsubscribe: { type: 'unsub', topic },
  match: (message: In) => message.topic === topic,
})

function Room(props: { socket: SteadySocket<In, Out>; topic: string; calls?: string[]; label?: string }) {
  useSubscription(props.socket, props.topic, room(props.topic), (message) => props.calls?.push(`${props.label}:${message.topic}:${message.n}`))
  return null
}

async function openSocket() {
  const mock = server()
  const socket = createSocket<In, Out>(mock.url, mock.options)
  await advance()
  return { ...mock, socket }
}

describe('useSubscription', () => {
  test('sends one subscribe for components sharing a key, and unsubscribe after the last one unmounts', async () => {
    const { url, options, wire } = server()
    function Rooms(props: { count: number }) {
      const socket = useSocket<In, Out>(url, options)
      return Array.from({ length: props.count }, (_, i) => <Room key={i} socket={socket} topic="a" />)
    }
    const view = render(<Rooms count={2} />)
    await advance()
    const opened = [...wire]
    view.rerender(<Rooms count={1} />)
    await advance()
    const afterOne = [...wire]
    view.rerender(<Rooms count={0} />)
    await advance()
    expect([opened, afterOne, wire]).toEqual([
      ['{"type":"sub","topic":"a"}'],
      ['{"type":"sub","topic":"a"}'],
      ['{"type":"sub","topic":"a"}', '{"type":"unsub","topic":"a"}'],
    ])
  })

  test('sends one subscribe under StrictMode on an open socket', async () => {
    const { socket, wire } = await openSocket()
    render(
      <StrictMode>
        <Room socket={socket} topic="a" />
      </StrictMode>,
    )
    await advance()
    expect(wire).toEqual(['{"type":"sub","topic":"a"}'])
  })

  test('re-sends the subscription after a reconnect and keeps delivering messages', async () => {
    const { socket, wire, client } = await openSocket()
    const calls: string[] = []
    render(<Room socket={socket} topic="a" calls={calls} label="room" />)
    client().close({ code: 1006, reason: '', wasClean: false })
    await advance(500)
    client().send('{"topic":"a","n":1}')
    expect([wire, calls]).toEqual([['{"type":"sub","topic":"a"}', '{"type":"sub","topic":"a"}'], ['room:a:1']])
  })

  test('passes matching messages to the latest onMessage', async () => {
    const { socket, client } = await openSocket()
    const calls: string[] = []
    const view = render(<Room socket={socket} topic="a" calls={calls} label="first" />)
    view.rerender(<Room socket={socket} topic="a" calls={calls} label="second" />)
    client().send('{"topic":"b","n":1}')
    client().send('{"topic":"a","n":2}')
    expect(calls).toEqual(['second:a:2'])
  })

  test('subscribes to the new key, then releases the old one, when the key changes', async () => {
    const { socket, wire } = await openSocket()
    const view = render(<Room socket={socket} topic="a" />)
    view.rerender(<Room socket={socket} topic="b" />)
    await advance()
    expect(wire).toEqual(['{"type":"sub","topic":"a"}', '{"type":"sub","topic":"b"}', '{"type":"unsub","topic":"a"}'])
  })

  test('re-subscribes after a reconnect with the latest render\'s spec', async () => {
    const { socket, wire, client } = await openSocket()
    function Resume(props: { from: number }) {
      useSubscription(socket, 'feed', { subscribe: () => ({ type: 'sub', topic: 'feed', from: props.from }) })
      return null
    }
    const view = render(<Resume from={0} />)
    view.rerender(<Resume from={7} />)
    act(() => client().close({ code: 1006, reason: '', wasClean: false }))
    await advance(500)
    expect(wire).toEqual(['{"type":"sub","topic":"feed","from":0}', '{"type":"sub","topic":"feed","from":7}'])
  })
})
