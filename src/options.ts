import { isFatalClose } from './close-codes'
import { browserEnvironment } from './environment'
import type { CloseInfo, Environment, RetryOptions, SocketOptions, WireData } from './types'

/** Every default, declared once. Times in ms. */
export const defaults = {
  binaryType: 'arraybuffer' as BinaryType,
  lazy: false,
  connectTimeout: 10_000,
  shouldReconnect: (close: CloseInfo) => !isFatalClose(close),
  retry: {
    initialDelay: 500,
    maxDelay: 30_000,
    factor: 2,
    jitter: 'full' as NonNullable<RetryOptions['jitter']>,
    maxAttempts: Infinity,
    stableAfter: 5_000,
    random: Math.random,
  },
  queue: { maxMessages: 1000, maxBytes: Infinity, overflow: 'drop-oldest' as 'drop-oldest' | 'drop-newest', ttl: Infinity },
  request: { idField: 'id', timeout: 10_000 },
  heartbeat: { interval: 25_000, timeout: 10_000 },
}

/** What `false` means for a section that is on by default. */
const off: Record<string, object> = { retry: { maxAttempts: 0 }, queue: { maxMessages: 0 } }

const choices: Record<string, string> = {
  binaryType: 'arraybuffer blob',
  jitter: 'full equal none',
  overflow: 'drop-oldest drop-newest',
}

const isFunction = (value: unknown): value is (...args: any[]) => any => typeof value === 'function'

/** Throws a TypeError (or `ErrorClass`) naming the option, the value received and what is allowed. */
function ensure(ok: unknown, name: string, value: unknown, allowed: string, ErrorClass = TypeError) {
  if (!ok)
    throw new ErrorClass(
      `createSocket: option ${name} got ${typeof value === 'string' ? `"${value}"` : value && typeof value === 'object' ? 'an object' : String(value)} — use ${allowed}`,
    )
}

/** Fills one level of options from `fallback`, checking each value against its default's type. */
function merge<T extends object>(prefix: string, given: any, fallback: T): T {
  ensure(given === undefined || (given && typeof given === 'object'), prefix.slice(0, -1) || 'options', given, prefix ? 'true, false or an object' : 'an object')
  const out: any = { ...fallback }
  for (const [key, def] of Object.entries(fallback)) {
    const value = given?.[key]
    const name = prefix + key
    if (def && typeof def === 'object') {
      if (key !== 'heartbeat') out[key] = merge(`${name}.`, value === false ? off[key] : value === true ? {} : value, def)
    } else if (value !== undefined) {
      const list = choices[key]?.split(' ')
      ensure(list ? list.includes(value) : typeof value === typeof def && value === value, name, value, list ? list.map((v) => `"${v}"`).join(' or ') : `a ${typeof def}`)
      ensure(!(value < 0), name, value, 'a number ≥ 0', RangeError)
      out[key] = value
    }
  }
  return out
}

export type Config = ReturnType<typeof normalize>

/** Validates options once at creation and fills in every default. */
export function normalize(url: unknown, options: SocketOptions<any, any> = {}) {
  merge('', options, {})
  const { WebSocket = globalThis.WebSocket, protocols, codec = 'json', validate, debug, on = {}, heartbeat } = options
  const env: Environment = options.environment ?? browserEnvironment()
  const pong = (heartbeat as { isPong?: unknown })?.isPong
  const checks: [unknown, string, unknown, string][] = [
    [typeof url === 'string' || url instanceof URL || isFunction(url), 'url', url, 'a string, a URL or a function'],
    [isFunction(WebSocket), 'WebSocket', WebSocket, 'a WebSocket constructor: this runtime has none (in Node pass the "ws" package)'],
    [protocols == null || typeof protocols === 'string' || Array.isArray(protocols) || isFunction(protocols), 'protocols', protocols, 'a string, an array or a function'],
    [codec === 'json' || codec === 'text' || (isFunction((codec as any).encode) && isFunction((codec as any).decode)), 'codec', codec, '"json", "text" or { encode, decode }'],
    [validate == null || isFunction(validate) || (validate as any)['~standard'], 'validate', validate, 'a Standard Schema or a type guard'],
    [isFunction(env.online) && isFunction(env.listen), 'environment', env, 'an object with online() and listen()'],
    [debug == null || typeof debug === 'boolean' || isFunction(debug), 'debug', debug, 'a boolean or a function'],
    [pong == null || isFunction(pong), 'heartbeat.isPong', pong, 'a function'],
  ]
  for (const check of checks) ensure(...check)
  const retry = options.retry
  const config = merge('', { ...options, retry: typeof retry === 'number' ? { maxAttempts: retry } : retry }, defaults)
  const ping = (heartbeat as { ping?: unknown })?.ping ?? 'ping'
  return {
    ...config,
    WebSocket: WebSocket as new (url: string | URL, protocols?: string | string[]) => WebSocket,
    url: url as string | URL | (() => string | URL | Promise<string | URL>),
    protocols,
    codec,
    validate,
    env,
    on,
    heartbeat: heartbeat
      ? {
          ...merge('heartbeat.', heartbeat === true ? {} : heartbeat, defaults.heartbeat),
          ping: (isFunction(ping) ? ping : () => ping) as () => WireData,
          isPong: pong as ((data: unknown) => boolean) | undefined,
        }
      : null,
    now: env.now ?? (() => Date.now()),
    setTimeout: env.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms)),
    clearTimeout: env.clearTimeout ?? ((id: any) => clearTimeout(id)),
    log: debug === true ? (...line: unknown[]) => console.debug('[steadysocket]', ...line) : debug || undefined,
  }
}
