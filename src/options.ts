import { isFatalClose } from './close-codes'
import { browserEnvironment } from './environment'
import type { CloseInfo, Environment, SocketOptions, WireData } from './types'

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
    jitter: 'full' as 'full' | 'equal' | 'none',
    maxAttempts: Infinity,
    stableAfter: 5_000,
    random: Math.random,
  },
  heartbeat: { interval: 25_000, timeout: 10_000 },
  queue: { maxMessages: 1000, maxBytes: Infinity, overflow: 'drop-oldest' as 'drop-oldest' | 'drop-newest', ttl: Infinity },
  request: { idField: 'id', timeout: 10_000 },
}

const choices: Record<string, unknown[]> = {
  binaryType: ['arraybuffer', 'blob'],
  jitter: ['full', 'equal', 'none'],
  overflow: ['drop-oldest', 'drop-newest'],
}

const show = (value: unknown) => (typeof value === 'string' ? `"${value}"` : value && typeof value === 'object' ? 'an object' : String(value))

function ensure(ok: unknown, name: string, value: unknown, allowed: string, ErrorClass = TypeError) {
  if (!ok) throw new ErrorClass(`createSocket: option ${name} got ${show(value)} — use ${allowed}`)
}

const isFunction = (value: unknown): value is (...args: any[]) => any => typeof value === 'function'

/** Fills one level of options from its defaults, checking each value against the default's type. */
function section<T extends object>(prefix: string, given: Record<string, unknown>, fallback: T): T {
  const out: Record<string, unknown> = { ...(fallback as Record<string, unknown>) }
  for (const [key, def] of Object.entries(fallback)) {
    const value = given[key]
    const name = prefix + key
    if (value === undefined || (def && typeof def === 'object')) continue
    const list = choices[key]
    if (list) ensure(list.includes(value), name, value, list.map(show).join(' or '))
    else ensure(typeof value === typeof def && value === value, name, value, `a ${typeof def}`)
    ensure(!((value as number) < 0), name, value, 'a number ≥ 0', RangeError)
    out[key] = value
  }
  return out as T
}

/** `true`/`undefined` → `{}` (or `off` for opt-in sections), `false` → `off`, objects as they are. */
function toggle(name: string, value: unknown, off: object | null, optIn?: boolean): any {
  if (value === false || (value === undefined && optIn)) return off
  ensure(value === true || value === undefined || (value && typeof value === 'object'), name, value, 'true, false or an object')
  return value === true || value === undefined ? {} : value
}

export type Config = ReturnType<typeof normalize>

/** Validates options once at creation and fills in every default. */
export function normalize(url: unknown, options: SocketOptions<any, any> = {}) {
  ensure(typeof url === 'string' || url instanceof URL || isFunction(url), 'url', url, 'a string, a URL or a function')
  ensure(options && typeof options === 'object', 'options', options, 'an object')
  const o = section('', options as Record<string, unknown>, defaults)
  const { WebSocket = globalThis.WebSocket, protocols, codec = 'json', validate, debug, on = {} } = options
  const env: Environment = options.environment ?? browserEnvironment()
  ensure(isFunction(WebSocket), 'WebSocket', WebSocket, 'a WebSocket constructor: this runtime has none (in Node pass the "ws" package)')
  ensure(protocols == null || typeof protocols === 'string' || Array.isArray(protocols) || isFunction(protocols), 'protocols', protocols, 'a string, an array or a function')
  ensure(codec === 'json' || codec === 'text' || (isFunction((codec as any).encode) && isFunction((codec as any).decode)), 'codec', codec, '"json", "text" or { encode, decode }')
  ensure(validate == null || isFunction(validate) || (validate as any)['~standard'], 'validate', validate, 'a Standard Schema or a type guard')
  ensure(isFunction(env.online) && isFunction(env.listen), 'environment', env, 'an object with online() and listen()')
  ensure(debug == null || typeof debug === 'boolean' || isFunction(debug), 'debug', debug, 'a boolean or a function')
  const retryOption = options.retry
  const heartbeatOption = toggle('heartbeat', options.heartbeat, null, true)
  const retry = section('retry.', toggle('retry', typeof retryOption === 'number' ? { maxAttempts: retryOption } : retryOption, { maxAttempts: 0 }), defaults.retry)
  const ping = heartbeatOption?.ping ?? 'ping'
  ensure(heartbeatOption?.isPong == null || isFunction(heartbeatOption.isPong), 'heartbeat.isPong', heartbeatOption?.isPong, 'a function')
  return {
    ...o,
    WebSocket: WebSocket as new (url: string | URL, protocols?: string | string[]) => WebSocket,
    url: url as string | URL | (() => string | URL | Promise<string | URL>),
    protocols,
    codec,
    validate,
    env,
    on,
    retry,
    heartbeat: heartbeatOption && {
      ...section('heartbeat.', heartbeatOption, defaults.heartbeat),
      ping: (isFunction(ping) ? ping : () => ping) as () => WireData,
      isPong: heartbeatOption.isPong as ((data: unknown) => boolean) | undefined,
    },
    queue: section('queue.', toggle('queue', options.queue, { maxMessages: 0 }), defaults.queue),
    request: section('request.', toggle('request', options.request, {}), defaults.request),
    now: env.now ?? (() => Date.now()),
    setTimeout: env.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms)),
    clearTimeout: env.clearTimeout ?? ((id: any) => clearTimeout(id)),
    log: debug === true ? (...line: unknown[]) => console.debug('[steadysocket]', ...line) : debug || undefined,
  }
}
