import { retryDefaults } from './backoff'
import { isFatalClose } from './close-codes'
import { isBinary } from './codec'
import { browserEnvironment } from './environment'
import type { Clock } from './clock'
import type { HeartbeatConfig } from './heartbeat'
import type { CloseInfo, Codec, Environment, OutboxStore, SocketOptions, Validator, WebSocketConstructor } from './types'

/** Every default, declared once. Times in ms. */
export const defaults = {
  binaryType: 'arraybuffer' as BinaryType,
  lazy: false,
  connectTimeout: 10_000,
  shouldReconnect: (close: CloseInfo) => !isFatalClose(close),
  retry: retryDefaults,
  queue: { maxMessages: 1000, maxBytes: Infinity, overflow: 'drop-oldest' as 'drop-oldest' | 'drop-newest', ttl: Infinity, store: undefined as OutboxStore | undefined },
  delivery: { inFlight: 100, ttl: Infinity, isAck: undefined as ((message: any, id: string) => boolean) | undefined },
  request: { idField: 'id', timeout: 10_000 },
  /** Used when `heartbeat` is on; it is off by default. */
  heartbeat: { interval: 25_000, timeout: 10_000, mode: 'idle', ping: 'ping' } as HeartbeatConfig,
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
  WebSocket: 'a WebSocket constructor function',
  protocols: 'a string, an array or a function',
  binaryType: '"arraybuffer" or "blob"',
  retry: 'a boolean, a number or an object',
  jitter: '"full", "equal" or "none", or a number from 0 to 1',
  heartbeat: 'a boolean or an object',
  ping: 'a string, binary or a function',
  isPong: 'a function',
  isAck: 'a function',
  mode: '"idle" or "always"',
  store: 'an object',
  delivery: 'an object',
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
      `createSocket: option ${name} got ${typeof value === 'string' ? `"${value}"` : value && typeof value === 'object' ? (Array.isArray(value) ? 'an array' : 'an object') : String(value)} — use ${use}`,
    )
  }
  // value !== value: NaN is a number, but never a valid one.
  if (!ok || value !== value) fail(TypeError, allowed)
  if (value < 0) fail(RangeError, 'a number ≥ 0')
}

/** Options without a default, as paths; the others are the keys of `defaults`. */
const undefaulted = 'protocols WebSocket codec validate environment on debug heartbeat.isPong'.split(' ')

/**
 * Other libraries' names for our options (reconnecting-websocket, partysocket, socket.io,
 * graphql-ws…), or enough of them, after each `/`; they only feed the "did you mean" hint.
 */
const aliases =
  'lazy/startclosed/autoconnect connectTimeout/timeout retry/reconnection retry.initialDelay/minreconnectiondelay/reconnectinterval ' +
  'retry.maxDelay/maxreconnectiondelay retry.factor/reconnectiondelaygrowfactor retry.jitter/randomization retry.maxAttempts/retries/reconnectattempts ' +
  'retry.stableAfter/uptime heartbeat.interval/keepalive heartbeat.timeout/pingtimeout on/onmessage/onopen/onclose/onerror'

/** How many two-letter pieces of `a` occur in `b`, relative to their lengths (0 to 1). */
const likeness = (a: string, b: string) => {
  let shared = 0
  for (let i = 1; i < a.length; i++) if (b.includes(a.slice(i - 1, i + 1))) shared++
  return (2 * shared) / (a.length + b.length - 2)
}

/** Throws a TypeError for an option that does not exist, naming the closest one as a user writes it (`retry: { maxAttempts }`). */
function unknown(name: string, section: string): never {
  const key = name.slice(section.length).toLowerCase()
  const paths = [...aliases.split(' '), ...undefaulted, ...Object.keys(defaults)]
  for (const [group, value] of Object.entries(defaults)) if (typeof value === 'object') for (const field in value) paths.push(`${group}.${field}`)
  let best = ''
  let score = 0.3
  for (const entry of paths)
    for (const other of entry.replace(/.*\./, '').split('/')) {
      const similar = likeness(key, other.toLowerCase())
      if (similar > score) [best, score] = [entry.split('/')[0]!, similar]
    }
  throw new TypeError(`createSocket: unknown option ${name}${best && ` — did you mean \`${best.replace(/\.(.*)/, ': { $1 }')}\`?`}`)
}

/**
 * Checks the options given at one level and fills in the defaults. `null` means "not
 * given", like `undefined`; a key that is not an option is a TypeError naming the closest one.
 */
function merge(prefix: string, given: any, fallback: any): any {
  const out = { ...fallback }
  for (const key in given) {
    const def = fallback[key]
    const value = given[key]
    const name = prefix + key
    const use = allowed[key] ?? (def !== undefined && `a ${typeof def}`)
    if (value != null && !Object.hasOwn(fallback, key) && !undefaulted.includes(name)) unknown(name, prefix)
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

/**
 * The URL a WebSocket opens for `url`, as browsers read it: `http:`/`https:` become
 * `ws:`/`wss:` and a relative URL is resolved against the page. Any other scheme (or a
 * relative URL with no page) is a TypeError that shows the URL without its query string.
 */
export function toWebSocketUrl(url: string | URL): string {
  let href = ''
  try {
    href = new URL(url, globalThis.location?.href).href.replace(/^http/, 'ws')
  } catch {}
  // Shown without its query string, which may hold a token.
  if (!/^wss?:/.test(href)) check('url', String(url).replace(/[?#].*/, ''), 'a ws:, wss:, http: or https: URL', false)
  return href
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
  check('WebSocket', WebSocket, allowed.WebSocket! + (options.WebSocket ? '' : ': this runtime has none (in Node pass the "ws" package)'))
  check('codec', codec, '"json", "text" or { encode, decode }', codec === 'json' || codec === 'text' || (typeof codec.encode === 'function' && typeof codec.decode === 'function'))
  check('environment', env, 'an object with online() and listen()', typeof env?.online === 'function' && typeof env.listen === 'function')
  const config = merge('', options, defaults)
  const { now = Date.now, setTimeout: later = setTimeout, clearTimeout: cancel = clearTimeout } = env
  return {
    ...(config as typeof defaults & Pick<SocketOptions<any, any>, 'protocols' | 'on'>),
    url: typeof url === 'function' ? (url as () => string | URL | Promise<string | URL>) : toWebSocketUrl(url as string | URL),
    WebSocket: WebSocket as WebSocketConstructor,
    codec: codec as 'json' | 'text' | Codec<any, any>,
    validate: config.validate as Validator<unknown> | undefined,
    env,
    heartbeat: options.heartbeat ? (config.heartbeat as HeartbeatConfig) : undefined,
    clock: { now, setTimeout: later, clearTimeout: cancel } as Clock,
    log: debug === true ? (...line: unknown[]) => console.debug('[steadysocket]', ...line) : debug || undefined,
  }
}
