import * as v from 'valibot'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { MessageError, type StandardSchemaV1, type SteadySocketErrorType } from '../../src/index'
import { setup, tick, useFakeTime } from './helpers'

useFakeTime()

const chat = { type: 'chat', text: 'hi' }

function issuesOf(errors: SteadySocketErrorType[]) {
  return errors.map((e) => [e.name, (e as MessageError).data, (e as MessageError).issues?.length])
}

describe('validation', () => {
  test.each([
    ['zod', z.object({ type: z.literal('chat'), text: z.string() })],
    ['valibot', v.object({ type: v.literal('chat'), text: v.string() })],
  ])('a %s schema delivers valid messages and reports invalid ones as MessageError', async (_name, schema) => {
    const { socket, client, log } = setup({ validate: schema })
    const errors: SteadySocketErrorType[] = []
    socket.on('error', (e) => errors.push(e))
    await tick()
    client().send(JSON.stringify(chat))
    client().send('{"type":"chat","text":42}')
    client().send(JSON.stringify({ ...chat, text: 'after' }))
    await tick()
    expect(log).toEqual(['open', 'message:{"type":"chat","text":"hi"}', 'error:MessageError', 'message:{"type":"chat","text":"after"}'])
    expect(issuesOf(errors)).toEqual([['MessageError', '{"type":"chat","text":42}', 1]])
    expect(socket.state.status).toBe('open')
  })

  test("delivers the schema's output value, not the raw input", async () => {
    const schema = z.object({ at: z.string().transform((s) => s.length) })
    const { client, log } = setup({ validate: schema })
    await tick()
    client().send('{"at":"abcd"}')
    await tick()
    expect(log).toEqual(['open', 'message:{"at":4}'])
  })

  test('a type guard delivers what it accepts and reports the rest', async () => {
    const isChat = (m: unknown): m is typeof chat => (m as { type?: string })?.type === 'chat'
    const { client, log } = setup({ validate: isChat })
    await tick()
    client().send('{"type":"other"}')
    client().send(JSON.stringify(chat))
    await tick()
    expect(log).toEqual(['open', 'error:MessageError', 'message:{"type":"chat","text":"hi"}'])
  })

  test('async validators keep arrival order, even when later frames validate faster', async () => {
    const delays: Record<string, number> = { a: 300, b: 10, c: 100 }
    const schema: StandardSchemaV1<unknown, { id: string }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) =>
          new Promise((resolve) =>
            setTimeout(() => resolve((value as { id: string }).id === 'b' ? { issues: [{ message: 'no b' }] } : { value: value as { id: string } }), delays[(value as { id: string }).id]),
          ),
      },
    }
    const { client, log, socket } = setup({ validate: schema })
    const binary: number[] = []
    socket.on('binary', (data) => {
      binary.push(new Uint8Array(data as ArrayBuffer)[0]!)
      log.push('binary')
    })
    await tick()
    for (const id of ['a', 'b']) client().send(JSON.stringify({ id }))
    client().send(new Uint8Array([7]).buffer)
    client().send(JSON.stringify({ id: 'c' }))
    await tick(1000)
    expect(log).toEqual(['open', 'message:{"id":"a"}', 'error:MessageError', 'binary', 'message:{"id":"c"}'])
    expect(binary).toEqual([7])
  })

  test('nothing from a connection is delivered after its close', async () => {
    const schema: StandardSchemaV1<unknown, unknown> = {
      '~standard': { version: 1, vendor: 'test', validate: (value) => new Promise((resolve) => setTimeout(() => resolve({ value }), 300)) },
    }
    const { client, log } = setup({ validate: schema })
    await tick()
    client().send('"late"')
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick(1000)
    expect(log).toEqual(['open', 'close:1006', 'reconnecting:1:500', 'open:again'])
  })

  test('a validation that never settles becomes a MessageError after request.timeout and does not stall later frames', async () => {
    let calls = 0
    const schema: StandardSchemaV1<unknown, unknown> = {
      '~standard': { version: 1, vendor: 'test', validate: (value) => (++calls === 1 ? new Promise(() => {}) : Promise.resolve({ value })) },
    }
    const { client, log, socket } = setup({ validate: schema, request: { timeout: 2000 } })
    const errors: string[] = []
    socket.on('error', (error) => errors.push(error.message))
    await tick()
    client().send('"stuck"')
    client().send('"next"')
    await tick(1900)
    expect(log).toEqual(['open'])
    await tick(200)
    expect(log).toEqual(['open', 'error:MessageError', 'message:"next"'])
    expect(errors[0]).toMatch(/no result in 2000 ms/)
  })

  test('a validator that throws is reported and later messages still arrive', async () => {
    let calls = 0
    const { client, log } = setup({
      validate: (_message: unknown): _message is unknown => {
        if (++calls === 1) throw new Error('validator bug')
        return true
      },
    })
    await tick()
    client().send('1')
    client().send('2')
    await tick()
    expect(log).toEqual(['open', 'error:MessageError', 'message:2'])
  })
})

describe('custom codecs', () => {
  // A MessagePack-like binary codec: a length-prefixed UTF-8 JSON body in one binary frame.
  const binaryCodec = {
    encode: (message: unknown) => {
      const body = new TextEncoder().encode(JSON.stringify(message))
      const frame = new Uint8Array(body.length + 1)
      frame[0] = body.length
      frame.set(body, 1)
      return frame.buffer
    },
    decode: (data: string | ArrayBuffer | Blob) => {
      if (typeof data === 'string') return { text: data }
      const bytes = new Uint8Array(data as ArrayBuffer)
      return JSON.parse(new TextDecoder().decode(bytes.subarray(1, 1 + bytes[0]!)))
    },
  }

  test('sees every frame, text and binary, and binary is not emitted', async () => {
    const { socket, client, log, received } = setup({ codec: binaryCodec })
    const binary: unknown[] = []
    socket.on('binary', (b) => binary.push(b))
    await tick()
    socket.send({ n: 1 })
    client().send(binaryCodec.encode({ n: 2 }))
    client().send('plain')
    await tick()
    expect(log).toEqual(['open', 'message:{"n":2}', 'message:{"text":"plain"}'])
    expect(binary).toEqual([])
    expect(binaryCodec.decode(received[0] as ArrayBuffer)).toEqual({ n: 1 })
  })

  test('a decode failure is a MessageError with the raw frame', async () => {
    const { socket, client } = setup({ codec: { encode: String, decode: () => { throw new Error('bad frame') } } })
    const errors: SteadySocketErrorType[] = []
    socket.on('error', (e) => errors.push(e))
    await tick()
    client().send('zzz')
    expect(errors.map((e) => [e.name, (e as MessageError).data, (e.cause as Error).message])).toEqual([['MessageError', 'zzz', 'bad frame']])
  })

  test('an encode failure throws MessageError synchronously and queues nothing', () => {
    const { socket } = setup({ lazy: true, codec: { encode: () => { throw new Error('nope') }, decode: String } })
    expect(() => socket.send('x')).toThrow(MessageError)
    expect(socket.state.queued).toBe(0)
  })
})
