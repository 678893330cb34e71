import { describe, expect, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import { createSocket, type SocketState, type SteadySocketErrorType } from '../../src/index'
import { fakeEnvironment, mockServer } from './helpers'

type In = { type: 'chat'; text: string } | { type: 'presence'; online: number }
type Out = { type: 'say'; text: string }

const { WebSocket, url } = mockServer()
const options = { WebSocket, environment: fakeEnvironment().environment, lazy: true }

describe('typed messages', () => {
  test('send and request take Out; message, subscriptions and replies give In', async () => {
    const socket = createSocket<In, Out>(url, options)
    socket.send({ type: 'say', text: 'hi' })
    socket.send(new Uint8Array(2))
    // @ts-expect-error a wrong shape does not compile
    socket.send({ type: 'shout', text: 'hi' })
    // @ts-expect-error a missing field does not compile
    socket.send({ type: 'say' })
    socket.on('message', (message) => {
      expectTypeOf(message).toEqualTypeOf<In>()
      if (message.type === 'chat') expectTypeOf(message.text).toBeString()
      // @ts-expect-error reading a field In does not have does not compile
      void message.nickname
    })
    socket.subscribe('room', { subscribe: { type: 'say', text: 'join' }, match: (m) => m.type === 'chat' }, (m) => expectTypeOf(m).toEqualTypeOf<In>())
    // @ts-expect-error a subscribe message must be an Out
    socket.subscribe('room', { subscribe: { join: 'room' } })
    const reply = socket.request({ type: 'say', text: 'q' })
    expectTypeOf(reply).resolves.toEqualTypeOf<In>()
    socket.close()
    await expect(reply).rejects.toThrow(/closed/)
  })

  test('defaults to unknown, never any', () => {
    const socket = createSocket(url, options)
    socket.on('message', (message) => {
      expectTypeOf(message).toBeUnknown()
      // @ts-expect-error unknown must be narrowed before use
      void message.text
    })
    socket.send({ anything: true })
    socket.close()
  })

  test('the validate schema must produce In', () => {
    const schema = z.object({ type: z.literal('chat'), text: z.string() })
    createSocket<z.infer<typeof schema>>(url, { ...options, validate: schema }).close()
    // @ts-expect-error a schema for another shape is refused
    createSocket<{ count: number }>(url, { ...options, validate: schema }).close()
  })

  test('events carry their payload types', () => {
    const socket = createSocket<In, Out>(url, options)
    socket.on('state', (state) => expectTypeOf(state).toEqualTypeOf<SocketState>())
    socket.on('close', (close) => expectTypeOf(close.willReconnect).toBeBoolean())
    socket.on('reconnecting', ({ attempt, delay }) => expectTypeOf([attempt, delay]).toEqualTypeOf<number[]>())
    socket.on('error', (error) => expectTypeOf(error).toEqualTypeOf<SteadySocketErrorType>())
    socket.on('binary', (data) => expectTypeOf(data).toEqualTypeOf<ArrayBuffer | Blob>())
    // @ts-expect-error unknown event names do not compile
    socket.on('opened', () => {})
    expectTypeOf(socket.state.status).toEqualTypeOf<'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed'>()
    socket.close()
  })
})
