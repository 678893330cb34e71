import { MessageError } from './errors'
import type { Codec, StandardSchemaV1, Validator, WireData } from './types'

export const isBinary = (value: unknown): value is ArrayBuffer | ArrayBufferView | Blob =>
  value instanceof ArrayBuffer ||
  ArrayBuffer.isView(value) ||
  (typeof Blob !== 'undefined' && value instanceof Blob)

/** The built-in codecs; `binary` marks that binary frames bypass them. */
const builtIn = {
  json: { encode: JSON.stringify, decode: JSON.parse },
  text: { encode: String, decode: (data: unknown) => data },
} as const

export interface MessageCodec {
  /** Encodes for the wire; binary values pass through. Throws `MessageError`. */
  encode(message: unknown): WireData
  /** Decodes a frame; built-in codecs hand binary frames back for the `binary` event. Throws `MessageError`. */
  decode(data: unknown): { value: unknown } | { binary: ArrayBuffer | Blob }
}

export function createCodec(codec: 'json' | 'text' | Codec<any, any>): MessageCodec {
  const custom = typeof codec === 'object'
  const { encode, decode } = custom ? codec : builtIn[codec]
  return {
    encode(message) {
      if (isBinary(message)) return message
      let data
      try {
        data = encode(message as never)
      } catch (cause) {
        throw new MessageError('encode failed — see cause', message, { cause })
      }
      // JSON.stringify(undefined) is undefined: sending it would write the text "undefined".
      if (data === undefined) throw new MessageError('encode failed: nothing to send', message)
      return data
    },
    decode(data) {
      if (!custom && typeof data !== 'string') return { binary: data as ArrayBuffer | Blob }
      try {
        return { value: decode(data as never) }
      } catch (cause) {
        throw new MessageError('decode failed — see cause', data, { cause })
      }
    },
  }
}

type Checked = { value: unknown } | { issues: ReadonlyArray<unknown> }

/** Runs a Standard Schema or a type guard; async schemas give a promise. */
export function check(validator: Validator<unknown>, value: unknown): Checked | Promise<Checked> {
  const standard = (validator as StandardSchemaV1)['~standard']
  if (standard) return standard.validate(value) as Checked | Promise<Checked>
  return (validator as (value: unknown) => boolean)(value) ? { value } : { issues: [{ message: 'type guard failed' }] }
}
