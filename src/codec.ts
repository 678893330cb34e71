import { MessageError } from './errors'
import type { Codec, StandardSchemaV1, Validator, WireData } from './types'

export const isBinary = (value: unknown): value is ArrayBuffer | ArrayBufferView | Blob =>
  value instanceof ArrayBuffer || ArrayBuffer.isView(value) || (typeof Blob !== 'undefined' && value instanceof Blob)

/** The built-in codecs by name; an app codec (an object) sees binary frames too. */
export const codecs: Record<string, Codec<any, any>> = {
  json: { encode: JSON.stringify, decode: JSON.parse },
  text: { encode: String, decode: String },
}

/** Encodes for the wire; binary values pass through. Throws `MessageError`. */
export function encode(codec: Codec<any, any>, message: unknown): WireData {
  if (isBinary(message)) return message
  try {
    const data: WireData | undefined = codec.encode(message)
    // JSON.stringify(undefined) gives undefined; sending it would write the text "undefined".
    if (data === undefined) throw new TypeError('nothing to send')
    return data
  } catch (cause) {
    throw new MessageError('encode failed — see cause', { data: message, cause })
  }
}

type Checked = { value: unknown; issues?: undefined } | { issues: ReadonlyArray<unknown> }

/** Runs a Standard Schema or a type guard; async schemas give a promise. */
export function check(validator: Validator<unknown>, value: unknown): Checked | Promise<Checked> {
  const standard = (validator as StandardSchemaV1)['~standard']
  if (standard) return standard.validate(value) as Checked | Promise<Checked>
  return (validator as (value: unknown) => boolean)(value) ? { value } : { issues: [{ message: 'type guard failed' }] }
}
