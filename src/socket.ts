import { backoffDelay } from './backoff'
import { retryAfter } from './close-codes'
import { check, createCodec, isBinary } from './codec'
import { createEmitter } from './emitter'
import {
  ConnectionError,
  MessageError,
  QueueOverflowError,
  SocketClosedError,
  SteadySocketError,
  TimeoutError,
} from './errors'
import { createHeartbeat } from './heartbeat'
import { normalize } from './options'
import { createQueue, wireSize, type QueuedFrame } from './queue'
import { createRequests } from './requests'
import { createSubscriptions } from './subscriptions'
import type {
  CloseInfo,
  EnvironmentSignal,
  SocketEvents,
  SocketOptions,
  SocketState,
  SteadySocket,
  WireData,
} from './types'

const noop = () => {}
const OPEN = 1

/** The native socket as used here: it accepts every `WireData`, shared buffers included. */
type NativeSocket = Omit<WebSocket, 'send'> & { send(data: WireData): void }

/**
 * Creates a WebSocket that reconnects with backoff, queues while offline, and replays
 * subscriptions; it starts connecting at once unless `lazy`.
 * @param url A URL, or a (maybe async) function called before every attempt.
 * @example
 * const socket = createSocket<ServerMessage, ClientMessage>('wss://example.com/live')
 * socket.on('message', (message) => console.log(message))
 * socket.send({ type: 'hello' })
 */
export function createSocket<In = unknown, Out = unknown>(
  url: string | URL | (() => string | URL | Promise<string | URL>),
  options?: SocketOptions<In, Out>,
): SteadySocket<In, Out> {
  const config = normalize(url, options)
  const { retry, heartbeat: heartbeatConfig, env, now, log, validate } = config
  const { maxMessages, maxBytes, overflow, ttl } = config.queue
  const { idField } = config.request
  const codec = createCodec(config.codec)
  const queue = createQueue(maxMessages, maxBytes, overflow === 'drop-newest', ttl)
  const subscriptions = createSubscriptions()
  const requests = createRequests(idField, config.request.timeout, config)
  const events = createEmitter<SocketEvents<In>>((cause) =>
    report(new SteadySocketError('listener threw — see cause', { cause })),
  )

  let state: SocketState = {
    status: 'idle',
    attempt: 0,
    retryAt: null,
    queued: 0,
    rtt: null,
    lastClose: null,
    online: env.online(),
  }
  let ws: NativeSocket | null = null
  // Bumped whenever an attempt starts or is abandoned: late results of async url
  // functions from an older attempt see a different number and are ignored.
  let generation = 0
  let everOpened = false
  let waitTimer: unknown
  let stableTimer: unknown
  let serverDelay: number | undefined
  let unlisten: (() => void) | undefined
  let validating: Promise<unknown> | undefined
  const warned = new Set<string>()

  const heartbeat =
    heartbeatConfig &&
    createHeartbeat(
      heartbeatConfig,
      config,
      (data) => ws?.send(data),
      () => {
        report(new TimeoutError('heartbeat timeout: no frame after a ping — is the server answering? see heartbeat.isPong'))
        abandon()
        dropped({ code: 4000, reason: 'heartbeat timeout', wasClean: false })
      },
      (rtt) => set({ rtt }),
    )

  function set(patch: Partial<SocketState>) {
    for (const key in patch)
      if (!Object.is(patch[key as keyof SocketState], state[key as keyof SocketState])) {
        state = { ...state, ...patch }
        log?.(state.status, state.attempt)
        return events.emit('state', state)
      }
  }

  function report(error: SteadySocketError) {
    if (!events.has('error') && !warned.has(error.name)) {
      warned.add(error.name)
      console.warn('[steadysocket]', error.message, '(once; listen to "error")')
    }
    events.emit('error', error as SocketEvents<In>['error'])
  }

  const safely = <T>(fn: (value: T) => void, value: T) => {
    try {
      fn(value)
    } catch (cause) {
      report(new SteadySocketError('listener threw — see cause', { cause }))
    }
  }

  function clearTimers() {
    config.clearTimeout(waitTimer)
    config.clearTimeout(stableTimer)
    heartbeat?.stop()
  }

  /** Lets go of the native socket at once, without waiting for its `close` event. */
  function abandon(code?: number, reason?: string) {
    generation++
    clearTimers()
    const old = ws
    if (!old) return
    ws = null
    old.onopen = old.onmessage = old.onclose = null
    // Node's `ws` throws on an 'error' event with no listener; keep a silent one.
    old.onerror = noop
    try {
      old.close(code, reason)
    } catch {
      // A socket that is already closing may refuse; it is detached either way.
    }
  }

  function listen() {
    if (unlisten) return
    unlisten = env.listen(onSignal)
    // Signals are missed while not listening (lazy, or after close()): catch up once.
    set({ online: env.online() })
  }

  function attempt() {
    abandon()
    listen()
    if (!state.online) return set({ status: 'offline', retryAt: null })
    const current = generation
    set({ status: 'connecting', retryAt: null })
    waitTimer = config.setTimeout(
      () => fail(new TimeoutError('connect timeout — check the server or raise connectTimeout')),
      config.connectTimeout,
    )
    const resolve = <T>(value: T | (() => T | Promise<T>), then: (value: T) => void) => {
      try {
        const result = typeof value === 'function' ? (value as () => T | Promise<T>)() : value
        if (result instanceof Promise) result.then((v) => current === generation && then(v), (cause) => current === generation && failResolve(cause))
        else then(result)
      } catch (cause) {
        failResolve(cause)
      }
    }
    resolve(config.url, (target) =>
      resolve(config.protocols, (protocols) => {
        try {
          ws = new config.WebSocket(target, protocols) as NativeSocket
        } catch (cause) {
          return failResolve(cause)
        }
        ws.binaryType = config.binaryType
        ws.onopen = opened
        ws.onmessage = (event) => received(event.data)
        ws.onclose = ({ code, reason, wasClean }) => {
          const info = { code, reason, wasClean }
          const wasOpen = state.status === 'open'
          abandon()
          if (wasOpen) dropped(info)
          else fail(new ConnectionError(`connect failed: closed with ${code} before open — check the url and server`, info))
        }
        ws.onerror = noop
      }),
    )
  }

  function failResolve(cause: unknown) {
    fail(new ConnectionError('connect failed: see cause', undefined, { cause }))
  }

  function opened() {
    const socket = ws!
    config.clearTimeout(waitTimer)
    // Order matters (DESIGN 5): subscriptions, then the queue, then `open`. Sends made
    // meanwhile are queued behind the flushed frames because status is not 'open' yet.
    for (const { spec } of subscriptions.entries.values()) transmit(spec.subscribe)
    const expired: QueuedFrame[] = []
    let frame
    while (ws === socket && (frame = queue.shift(now(), expired))) socket.send(frame.data)
    for (const old of expired) drop(old, 'queue.ttl')
    if (ws !== socket) return
    const reconnect = everOpened
    everOpened = true
    set({ status: 'open', queued: queue.length, online: true })
    stableTimer = config.setTimeout(() => set({ attempt: 0 }), retry.stableAfter)
    heartbeat?.start()
    events.emit('open', { reconnect })
  }

  function received(data: unknown) {
    // Any frame, a pong included, proves the network is up whatever navigator.onLine says.
    if (!state.online) set({ online: true })
    if (heartbeat?.seen(data)) return
    let decoded
    try {
      decoded = codec.decode(data)
    } catch (error) {
      return report(error as MessageError)
    }
    if ('binary' in decoded) return events.emit('binary', decoded.binary)
    const { value } = decoded
    if (!validate && !validating) return deliver(value)
    // Async validation must not reorder messages: everything after a pending
    // validation waits in one chain.
    const run = () => {
      const result = check(validate!, value)
      return result instanceof Promise ? result.then(validated, invalid) : validated(result)
    }
    const validated = (result: { value: unknown } | { issues: ReadonlyArray<unknown> }) =>
      'issues' in result && result.issues
        ? report(new MessageError('invalid message dropped — see .issues', data, { issues: result.issues }))
        : deliver((result as { value: unknown }).value)
    const invalid = (cause: unknown) => report(new MessageError('validator threw — see cause', data, { cause }))
    try {
      const result = validating ? validating.then(run) : run()
      if (result instanceof Promise) {
        const mine: Promise<unknown> = (validating = result.then(noop, invalid).then(() => {
          if (validating === mine) validating = undefined
        }))
      }
    } catch (cause) {
      invalid(cause)
    }
  }

  function deliver(message: unknown) {
    if (requests.settle(message)) return
    subscriptions.route(message, safely)
    events.emit('message', message as In)
  }

  /** An open connection ended without the app asking. */
  function dropped(close: CloseInfo) {
    let again = state.attempt < retry.maxAttempts
    try {
      again &&= config.shouldReconnect(close)
    } catch (cause) {
      report(new SteadySocketError('shouldReconnect threw — see cause', { cause }))
    }
    serverDelay = retryAfter(close.reason)
    events.emit('close', { ...close, willReconnect: again })
    if (again) retryLater(close)
    else stop(close, false)
  }

  /** An attempt that never opened failed. */
  function fail(error: SteadySocketError) {
    abandon()
    report(error)
    if (state.attempt < retry.maxAttempts) return retryLater(state.lastClose)
    const close = (error as ConnectionError).close ?? { code: 1006, reason: '', wasClean: false }
    stop(close, true)
  }

  function retryLater(lastClose: CloseInfo | null) {
    if (!state.online) return set({ status: 'offline', retryAt: null, lastClose })
    const retryNumber = state.attempt + 1
    const delay = Math.min(serverDelay ?? backoffDelay(retryNumber, retry), retry.maxDelay)
    serverDelay = undefined
    set({ status: 'reconnecting', attempt: retryNumber, retryAt: now() + delay, lastClose })
    events.emit('reconnecting', { attempt: retryNumber, delay })
    waitTimer = config.setTimeout(attempt, delay)
  }

  /** Moves to 'closed': no more attempts until `connect()`. */
  function stop(close: CloseInfo, emitClose: boolean) {
    abandon()
    unlisten?.()
    unlisten = undefined
    set({ status: 'closed', retryAt: null, lastClose: close })
    if (emitClose) events.emit('close', { ...close, willReconnect: false })
    requests.rejectAll(new SocketClosedError(`socket closed (${close.code})`))
  }

  function restart() {
    set({ attempt: 0 })
    attempt()
  }

  function onSignal(signal: EnvironmentSignal) {
    log?.(signal)
    const { status } = state
    const waiting = status === 'reconnecting' || status === 'offline'
    if (signal === 'offline') {
      set({ online: false })
      if (status === 'open') heartbeat?.ping()
      else if (status === 'connecting' || status === 'reconnecting') {
        abandon()
        set({ status: 'offline', retryAt: null })
      }
    } else if (signal === 'online') {
      set({ online: true })
      if (waiting) restart()
    } else if (signal === 'visible') {
      if (status === 'open') heartbeat?.ping()
      else if (status === 'reconnecting' && state.retryAt !== null) attempt()
    } else if (signal === 'pagehide' && status !== 'closed' && status !== 'idle') {
      // Entering the back/forward cache: an open socket would make the page ineligible.
      const wasOpen = status === 'open'
      abandon(1000, 'pagehide')
      const close = { code: 1000, reason: 'pagehide', wasClean: true }
      if (wasOpen) events.emit('close', { ...close, willReconnect: true })
      set({ status: 'reconnecting', retryAt: null, lastClose: wasOpen ? close : state.lastClose })
    } else if (signal === 'pageshow' && waiting) restart()
  }

  function enqueue(data: WireData, value: unknown, onDrop?: (error: Error) => void): boolean {
    if (state.status === 'idle') connect()
    const frame = { data, size: maxBytes < Infinity ? wireSize(data) : 0, at: now(), value, dropped: onDrop }
    for (const out of queue.push(frame)) drop(out, 'queue full')
    set({ queued: queue.length })
    return false
  }

  function drop(frame: QueuedFrame, why: string) {
    const error = new QueueOverflowError(`message dropped (${why}) — see the queue option`, frame.value)
    frame.dropped?.(error)
    report(error)
  }

  /** Writes now when open, else queues; `true` when written now. */
  function write(data: WireData, value: unknown, onDrop?: (error: Error) => void): boolean {
    if (state.status === 'open' && ws!.readyState === OPEN) {
      ws!.send(data)
      return true
    }
    return enqueue(data, value, onDrop)
  }

  /** Sends a subscription's message (a value or a function) now; the socket is open. */
  function transmit(message: unknown) {
    try {
      ws!.send(codec.encode(typeof message === 'function' ? message() : message))
    } catch (error) {
      report(error instanceof SteadySocketError ? error : new MessageError('subscribe message threw — see cause', message, { cause: error }))
    }
  }

  /** Reports use after close; `true` when the socket is closed. */
  function refused(what: string, value?: unknown) {
    if (state.status !== 'closed') return false
    report(new SocketClosedError(`${what} failed: socket closed — call connect()`, value))
    return true
  }

  function connect() {
    const { status } = state
    if (status !== 'open' && status !== 'connecting') restart()
  }

  const socket: SteadySocket<In, Out> = {
    get state() {
      return state
    },
    on: events.on,
    connect,
    send(message) {
      if (refused('send', message)) return false
      return write(codec.encode(message), message)
    },
    sendRaw(data) {
      if (typeof data !== 'string' && !isBinary(data))
        throw new TypeError('sendRaw: data must be a string or binary — use send()')
      if (refused('sendRaw', data)) return false
      return write(data, data)
    },
    request(message, options) {
      if (typeof message !== 'object' || message === null || isBinary(message))
        return Promise.reject(new TypeError('request: the message must be an object'))
      if (refused('request', message)) return Promise.reject(new SocketClosedError('request failed: socket closed', message))
      return requests.start(message, options, (copy, onDrop) => write(codec.encode(copy), copy, onDrop))
    },
    subscribe(key, spec, onMessage) {
      if (refused('subscribe')) return noop
      const { fresh, release } = subscriptions.add(key, spec, onMessage)
      if (fresh && state.status === 'open') transmit(spec.subscribe)
      if (state.status === 'idle') connect()
      return () => {
        const last = release()
        if (last?.unsubscribe !== undefined && state.status === 'open') transmit(last.unsubscribe)
      }
    },
    reconnect() {
      const { status } = state
      if (status !== 'open' && status !== 'connecting') return connect()
      abandon(1000, 'reconnect')
      if (status === 'open') events.emit('close', { code: 1000, reason: 'reconnect', wasClean: true, willReconnect: true })
      restart()
    },
    close(code = 1000, reason = '') {
      if (code !== 1000 && !(code >= 3000 && code <= 4999))
        throw new RangeError(`close: code ${code} — use 1000 or 3000–4999`)
      if (wireSize(reason) > 123) throw new RangeError('close: reason over 123 bytes')
      if (state.status === 'closed') return
      abandon(code, reason)
      stop({ code, reason, wasClean: true }, true)
    },
  }

  for (const [event, listener] of Object.entries(config.on)) if (listener) events.on(event as keyof SocketEvents, listener as never)
  if (!config.lazy) connect()
  return socket
}
