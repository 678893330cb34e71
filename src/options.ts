import { retryDefaults } from './backoff'
import { isFatalClose } from './close-codes'
import { isBinary } from './codec'
import { browserEnvironment } from './environment'
import type { Clock, HeartbeatConfig } from './heartbeat'
import type { CloseInfo, Codec, Environment, SocketOptions, Validator, WebSocketConstructor } from './types'

/** Every default, declared once. Times in ms. */
export const defaults = {
  binaryType: 'arraybuffer' as BinaryType,
  lazy: false,
  connectTimeout: 10_000,
  shouldReconnect: (close: CloseInfo) => !isFatalClose(close),
  retry: retryDefaults,
  queue: { maxMessages: 1000, maxBytes: Infinity, overflow: 'drop-oldest' as 'drop-oldest' | 'drop-newest', ttl: Infinity },
  request: { idField: 'id', timeout: 10_000 },
  /** Used when `heartbeat` is on; it is off by default. */
  heartbeat: { interval: 25_000, timeout: 10_000, ping: 'ping' } as HeartbeatConfig,
}

/** What `false` means for a section that is on by default. */
const off: Record<string, object> = { retry: { maxAttempts: 0 }, queue: { maxMessages: 0 } }

/**
 * What an option accepts, worded as its error shows it; options with a default not
 * listed here accept the default's type. A value passes when the text names its kind
 * (see `kindOf`) or quotes it (`"blob"`).
 */
const allowed: Record<string, string> = {
  url: 'a string, a URL or a function',
  WebSocket: 'a WebSocket constructor function: this runtime has none (in Node pass the "ws" package)',
  protocols: 'a string, an array or a function',
  binaryType: '"arraybuffer" or "blob"',
  retry: 'a boolean, a number or an object',
  jitter: '"full", "equal" or "none"',
  heartbeat: 'a boolean or an object',
  ping: 'a string, binary or a function',
  isPong: 'a function',
  queue: 'a boolean or an object',
  overflow: '"drop-oldest" or "drop-newest"',
  request: 'an object',
  validate: 'a Standard Schema or a type guard function',
  on: 'an object',
  debug: 'a boolean or a function',
}

/** The kind of a value, in the words `allowed` uses. */
const kindOf = (value: any): string =>
  isBinary(value) ? 'binary' : Array.isArray(value) ? 'array' : value instanceof URL ? 'URL' : value?.['~standard'] ? 'Standard Schema' : typeof value

/** Throws a TypeError (a RangeError for a number below 0) naming the option, the value received and what is allowed. */
function check(name: string, value: any, allowed: string, ok = allowed.includes(kindOf(value)) || allowed.includes(`"${value}"`)) {
  const fail = (ErrorClass: typeof TypeError, use: string) => {
    throw new ErrorClass(
      `createSocket: option ${name} got ${typeof value === 'string' ? `"${value}"` : value && typeof value === 'object' ? 'an object' : String(value)} — use ${use}`,
    )
  }
  // value !== value: NaN is a number, but never a valid one.
  if (!ok || value !== value) fail(TypeError, allowed)
  if (value < 0) fail(RangeError, 'a number ≥ 0')
}

/**
 * Checks the options given at one level and fills in the defaults. `null` means "not
 * given", like `undefined`; keys that are not options are ignored.
 */
function merge(prefix: string, given: any, fallback: any): any {
  const out = { ...fallback }
  for (const key in given) {
    const def = fallback[key]
    const value = given[key]
    const name = prefix + key
    const use = allowed[key] ?? (def !== undefined && `a ${typeof def}`)
    if (value != null && use) {
      check(name, value, use)
      out[key] =
        def && typeof def === 'object'
          ? merge(`${name}.`, value === false ? off[key] : value === true ? {} : typeof value === 'number' ? { maxAttempts: value } : value, def)
          : value
    }
  }
  return out
}

/** A value, or what the function given instead returns. */
export const produce = <T>(value: T | (() => T)): T => (typeof value === 'function' ? (value as () => T)() : value)

/** Validates options once at creation and fills in every default. */
export function normalize(url: unknown, given?: SocketOptions<any, any> | null) {
  const options = given ?? {}
  check('options', options, 'an object')
  const { debug } = options
  const WebSocket = options.WebSocket ?? globalThis.WebSocket
  const codec: any = options.codec ?? 'json'
  const env = { ...browserEnvironment(), ...options.environment } as Required<Pick<Environment, 'online' | 'listen'>> & Environment
  check('url', url, allowed.url!)
  check('WebSocket', WebSocket, allowed.WebSocket!)
  check('codec', codec, '"json", "text" or { encode, decode }', codec === 'json' || codec === 'text' || (typeof codec.encode === 'function' && typeof codec.decode === 'function'))
  check('environment', env, 'an object with online() and listen()', typeof env?.online === 'function' && typeof env.listen === 'function')
  const config = merge('', options, defaults)
  const { now = Date.now, setTimeout: later = setTimeout, clearTimeout: cancel = clearTimeout } = env
  return {
    ...(config as typeof defaults & Pick<SocketOptions<any, any>, 'protocols' | 'on'>),
    url: url as string | URL | (() => string | URL | Promise<string | URL>),
    WebSocket: WebSocket as WebSocketConstructor,
    codec: codec as 'json' | 'text' | Codec<any, any>,
    validate: config.validate as Validator<unknown> | undefined,
    env,
    heartbeat: options.heartbeat ? (config.heartbeat as HeartbeatConfig) : undefined,
    clock: { now, setTimeout: later, clearTimeout: cancel } as Clock,
    log: debug === true ? (...line: unknown[]) => console.debug('[steadysocket]', ...line) : debug || undefined,
  }
}
