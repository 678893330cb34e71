import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import { createSocket, type SocketState, type SteadySocket, type SteadySocketErrorType } from '../../src/index'
import { useSubscription } from '../../src/react/index'
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
    socket.subscribe('room', { subscribe: { type: 'say', text: 'join' }, match: (m) => m.type !== 'chat' || m.text !== '' }, (m) => expectTypeOf(m).toEqualTypeOf<In>())
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

type Chat = Extract<In, { type: 'chat' }>

describe('a type guard match narrows what the handler gets', () => {
  test('subscribe: the handler of a type guard match receives the narrowed type', () => {
    const socket = createSocket<In, Out>(url, options)
    socket.subscribe('chat', { subscribe: { type: 'say', text: 'join' }, match: (m): m is Chat => m.type === 'chat' }, (m) => {
      expectTypeOf(m).toEqualTypeOf<Chat>()
      expectTypeOf(m.text).toBeString()
    })
    // A boolean match narrows nothing.
    socket.subscribe('all', { subscribe: { type: 'say', text: 'join' }, match: (m) => m.type !== 'chat' || m.text !== '' }, (m) => expectTypeOf(m).toEqualTypeOf<In>())
    // @ts-expect-error a handler cannot claim a narrower type than match guarantees
    socket.subscribe('lie', { subscribe: { type: 'say', text: 'join' }, match: () => true }, (m: Chat) => void m)
    socket.close()
  })

  test('useSubscription: the same narrowing', () => {
    // Type-level only: a component that is never rendered.
    function Chats({ socket }: { socket: SteadySocket<In, Out> }) {
      useSubscription(socket, 'chat', { subscribe: { type: 'say', text: 'join' }, match: (m): m is Chat => m.type === 'chat' }, (m) => {
        expectTypeOf(m).toEqualTypeOf<Chat>()
      })
      useSubscription(socket, 'all', { subscribe: { type: 'say', text: 'join' } }, (m) => expectTypeOf(m).toEqualTypeOf<In>())
      return null
    }
    expectTypeOf(Chats).toBeFunction()
  })
})

describe('compile errors name the app\'s types', () => {
  test('a wrong message to send is reported against Out, not against Blob', () => {
    // Vitest runs from the repository's root.
    const root = process.cwd()
    const dir = mkdtempSync(join(tmpdir(), 'steadysocket-types-'))
    try {
      writeFileSync(
        join(dir, 'wrong.ts'),
        `import { createSocket } from ${JSON.stringify(join(root, 'src/index'))}
type Out = { type: 'say'; text: string } | { type: 'join'; room: string }
const socket = createSocket<unknown, Out>('wss://example.com/live')
socket.send({ type: 'shout' })
`,
      )
      const tsc = spawnSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'es2022,dom', '--types', '', '--pretty', 'false', join(dir, 'wrong.ts')],
        // Outside the repository, so that its tsconfig.json is not picked up.
        { encoding: 'utf8', cwd: dir },
      )
      expect(tsc.stdout + tsc.stderr).toMatch(/wrong\.ts\(4,\d+\): error TS2769/)
      expect(tsc.stdout).toMatch(/'"shout"' is not assignable to type '"say" \| "join"'|'"shout"' is not assignable to type '"join" \| "say"'/)
      expect(tsc.stdout).not.toMatch(/Blob/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    // A compiler run: a second or two, more on a busy machine.
  }, 30_000)
})
