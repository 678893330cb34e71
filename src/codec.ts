import { MessageError } from './errors'
import type { Codec, StandardSchemaV1, Validator, WireData } from './types'

export const isBinary = (value: unknown): value is ArrayBuffer | ArrayBufferView | Blob =>
  value instanceof ArrayBuffer || ArrayBuffer.isView(value) || (typeof Blob !== 'undefined' && value instanceof Blob)

export interface MessageCodec {
  /** `true` for an app codec, which sees binary frames too. */
  custom: boolean
  /** Encodes for the wire; binary values pass through. Throws `MessageError`. */
  encode(message: unknown): WireData
  decode(data: unknown): unknown
}

export function createCodec(codec: 'json' | 'text' | Codec<any, any>): MessageCodec {
  const custom = typeof codec === 'object'
  const { encode, decode }: Codec<any, any> = custom
    ? codec
    : codec === 'json'
      ? { encode: JSON.stringify, decode: JSON.parse }
      : { encode: String, decode: String }
  return {
    custom,
    encode(message) {
      if (isBinary(message)) return message
      try {
        const data: WireData | undefined = encode.call(codec, message)
        // JSON.stringify(undefined) gives undefined; sending it would write the text "undefined".
        if (data === undefined) throw new TypeError('nothing to send')
        return data
      } catch (cause) {
        throw new MessageError('encode failed — see cause', { data: message, cause })
      }
    },
    decode: (data) => decode.call(codec, data as string),
  }
}

type Checked = { value: unknown; issues?: undefined } | { issues: ReadonlyArray<unknown> }

/** Runs a Standard Schema or a type guard; async schemas give a promise. */
export function check(validator: Validator<unknown>, value: unknown): Checked | Promise<Checked> {
  const standard = (validator as StandardSchemaV1)['~standard']
  if (standard) return standard.validate(value) as Checked | Promise<Checked>
  return (validator as (value: unknown) => boolean)(value) ? { value } : { issues: [{ message: 'type guard failed' }] }
}
