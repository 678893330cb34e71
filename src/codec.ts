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
    if (typeof data !== 'string' && !isBinary(data)) {
      // An encoder's promise can never be sent; its rejection must not go unhandled.
      ;(data as any)?.catch?.(() => {})
      throw new TypeError(`the codec gave ${typeof data}, not a string or binary`)
    }
    return data
  } catch (cause) {
    throw new MessageError('encode failed — see cause', { data: message, cause })
  }
}

type Checked = { value: unknown; issues?: undefined } | { issues: ReadonlyArray<unknown> }

/** Runs a Standard Schema or a type guard (none: every value passes); async schemas give a promise. */
export function check(validator: Validator<unknown> | undefined, value: unknown): Checked | Promise<Checked> {
  // A decoder that returns a promise is awaited in order like an async validator.
  if (value instanceof Promise) return value.then((value) => check(validator, value))
  const standard = (validator as StandardSchemaV1 | undefined)?.['~standard']
  if (standard) return standard.validate(value) as Checked | Promise<Checked>
  const verdict = (ok: unknown): Checked => (ok ? { value } : { issues: [{ message: 'type guard failed' }] })
  const ok = !validator || (validator as (value: unknown) => unknown)(value)
  // A "type guard" that returns a promise is awaited, so that its rejection is handled.
  return ok instanceof Promise ? ok.then(verdict) : verdict(ok)
}
