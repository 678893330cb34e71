import { ConnectionError, createSocket, TimeoutError, type SocketOptions, type SteadySocket, type WireData } from 'steadysocket'

/** Options of reconnecting-websocket and partysocket, and steadysocket's own; other keys are ignored. Times in ms. */
export interface ReconnectingWebSocketOptions
  extends Pick<SocketOptions, 'heartbeat' | 'retry' | 'queue' | 'environment' | 'shouldReconnect' | 'debug' | 'binaryType'> {
  /** Retries before giving up (`retry.maxAttempts`). @default Infinity */
  maxRetries?: number
  /** Cap of the first retry's delay in ms. @default steadysocket's `retry.initialDelay` */
  minReconnectionDelay?: number
  /** Upper bound of every delay in ms, a server's `retryAfter` included. @default steadysocket's `retry.maxDelay` */
  maxReconnectionDelay?: number
  /** Growth of the delay cap per retry. @default steadysocket's `retry.factor` */
  reconnectionDelayGrowFactor?: number
  /** Ms an attempt may stay CONNECTING before it fails with an `error` whose `message` is `'TIMEOUT'` (`connectTimeout`). @default 10000 */
  connectionTimeout?: number
  /** Ms open before the retry count resets (`retry.stableAfter`). @default 5000 */
  minUptime?: number
  /** Most messages kept while not open; later ones are refused (`queue.maxMessages`, `overflow: 'drop-newest'`). @default 1000 */
  maxEnqueuedMessages?: number
  /** No connection until `reconnect()`; what `send()` gets meanwhile waits for it. @default false */
  startClosed?: boolean
  /** partysocket's name for `shouldReconnect`: asked after every server close (it gets `{ code, reason, wasClean }`). @default () => true */
  shouldReconnectOnClose?: SocketOptions['shouldReconnect']
  /** The WebSocket class, read at each attempt. @default globalThis.WebSocket */
  WebSocket?: SocketOptions['WebSocket']
}

type ReadyState = 0 | 1 | 2 | 3

type Lazy<T> = T | (() => T | Promise<T>)

const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3

/** Their options under one of steadysocket's sections: its own `retry`/`queue` object wins where both are given; `false` or a number passes as is. */
const section = <T>(given: T, mapped: object): T => (given == null || typeof given === 'object' ? { ...mapped, ...given } : given)

const types = ['open', 'message', 'close', 'error']

const size = (data: any): number => (typeof data === 'string' ? data.length : (data.size ?? data.byteLength))

/**
 * A `WebSocket` that reconnects: the native interface and events, built on `createSocket`,
 * with its backoff, heartbeat and offline queue.
 * @example
 * import WebSocket from 'steadysocket/websocket'
 * const ws = new WebSocket('wss://example.com/live')
 * ws.onmessage = (event) => console.log(event.data)
 */
// oxlint-disable-next-line no-unsafe-declaration-merging
export class ReconnectingWebSocket extends EventTarget implements WebSocket {
  declare static readonly CONNECTING: 0
  declare static readonly OPEN: 1
  declare static readonly CLOSING: 2
  declare static readonly CLOSED: 3
  declare readonly CONNECTING: 0
  declare readonly OPEN: 1
  declare readonly CLOSING: 2
  declare readonly CLOSED: 3

  declare onopen: ((this: WebSocket, event: Event) => any) | null
  declare onmessage: ((this: WebSocket, event: MessageEvent) => any) | null
  declare onclose: ((this: WebSocket, event: CloseEvent) => any) | null
  declare onerror: ((this: WebSocket, event: Event) => any) | null

  #socket: SteadySocket<unknown, unknown>
  #native: WebSocket | undefined
  #url = ''
  #readyState: ReadyState = CONNECTING
  #binaryType: BinaryType | undefined
  /** Bytes given to `send` and queued since the last open. */
  #queued = 0
  /** With `startClosed`: what `send` got before the first `reconnect()`. */
  #held: WireData[] | undefined
  #handlers: Record<string, ((event: Event) => unknown) | null | undefined> = {}

  static {
    // Static and on instances, as native WebSocket has them.
    for (const [value, name] of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].entries())
      for (const target of [this, this.prototype]) (target as unknown as Record<string, number>)[name] = value
    // Accessors on the prototype, as native (an own property would make happy-dom call it
    // a second time); the handler takes its place among the listeners when first set.
    for (const type of types)
      Object.defineProperty(this.prototype, `on${type}`, {
        get(this: ReconnectingWebSocket) {
          return this.#handlers[type] ?? null
        },
        set(this: ReconnectingWebSocket, handler: ((event: Event) => unknown) | null) {
          if (!(type in this.#handlers)) EventTarget.prototype.addEventListener.call(this, type, (event) => this.#handlers[type]?.call(this, event))
          this.#handlers[type] = handler
        },
      })
  }

  constructor(url: Lazy<string | URL>, protocols?: Lazy<string | string[] | undefined>, options?: ReconnectingWebSocketOptions | null) {
    super()
    const o = options ?? {}
    this.#binaryType = o.binaryType
    // oxlint-disable-next-line no-this-alias -- `new` needs a function, not an arrow
    const self = this
    // `new` on this function returns the native socket it makes: the wrapper reads
    // `protocol`, `extensions` and `binaryType` from it, and the global is read only now.
    function open(target: string | URL, list?: string | string[]) {
      const Native = o.WebSocket ?? globalThis.WebSocket
      if (!Native) throw new TypeError('no WebSocket: set options.WebSocket')
      const native = new Native(target, list)
      self.#url = given
      self.#native = native
      const own = native.binaryType
      // The core sets its own binaryType right after this returns; no frame can arrive
      // before this microtask runs.
      queueMicrotask(() => (native.binaryType = self.#binaryType ?? own))
      return native
    }
    // `url` reports the URL as the app gave it (or its function returned), where the
    // native socket reports it resolved ('ws://host' becomes 'ws://host/').
    let given = '' + url
    const produce = async () => {
      const value = await (url as () => string | URL | Promise<string | URL>)()
      given = '' + value
      return value
    }
    this.#socket = createSocket(typeof url === 'function' ? produce : url, {
      protocols,
      WebSocket: open as unknown as SocketOptions['WebSocket'],
      lazy: true,
      connectTimeout: o.connectionTimeout,
      heartbeat: o.heartbeat,
      environment: o.environment,
      debug: o.debug,
      // Like reconnecting-websocket and partysocket: every server close reconnects.
      shouldReconnect: o.shouldReconnect ?? o.shouldReconnectOnClose ?? (() => true),
      retry: section(o.retry, {
        maxAttempts: o.maxRetries,
        initialDelay: o.minReconnectionDelay,
        maxDelay: o.maxReconnectionDelay,
        factor: o.reconnectionDelayGrowFactor,
        stableAfter: o.minUptime,
      }),
      // Like theirs, a full queue refuses new messages.
      queue: section(o.queue, { overflow: 'drop-newest', maxMessages: o.maxEnqueuedMessages }),
      codec: { encode: (data) => data as string, decode: (data) => data },
      on: {
        open: () => {
          this.#queued = 0
          this.#post(new Event('open'), OPEN)
        },
        message: (data) => this.#post(new MessageEvent('message', { data })),
        error: (reported) => {
          // The core's give-up error carries the last attempt's failure: that is the event.
          const error = reported.cause instanceof TimeoutError || reported.cause instanceof ConnectionError ? reported.cause : reported
          // An attempt that failed, or a connection the heartbeat found dead: native sockets
          // fire `error` for these. A server close after open is only a close.
          const connecting = this.#readyState !== OPEN
          if (error instanceof TimeoutError || (connecting && error instanceof ConnectionError))
            this.#post(
              Object.assign(new Event('error'), {
                // reconnecting-websocket's and partysocket's word for a connect timeout; apps test for it.
                message: connecting && error instanceof TimeoutError ? 'TIMEOUT' : error.message,
                error,
              }),
            )
          else console.warn('[steadysocket]', error.message)
        },
        close: (close) => {
          // One close event: none for a close() while one is pending (reconnect() then
          // close(): a closing native socket ignores close() too), from a close listener, or
          // of a socket that never started.
          if (this.#readyState === CLOSING || (this.#readyState === CLOSED && !close.willReconnect)) return
          // An Event with code, reason and wasClean, like reconnecting-websocket's and
          // partysocket's (Node 20 has no CloseEvent).
          this.#post(Object.assign(new Event('close'), close), CLOSED)
        },
      },
    })
    // The first attempt starts after the constructor, as in reconnecting-websocket: a
    // subclass's url function may read the subclass's own fields.
    if (o.startClosed) {
      this.#readyState = CLOSED
      this.#held = []
    } else queueMicrotask(() => this.#readyState === CONNECTING && this.#socket.connect())
  }

  get url(): string {
    return this.#url
  }

  get readyState(): ReadyState {
    return this.#readyState
  }

  get protocol(): string {
    return this.#native?.protocol ?? ''
  }

  get extensions(): string {
    return this.#native?.extensions ?? ''
  }

  get bufferedAmount(): number {
    return this.#queued + (this.#readyState === OPEN ? (this.#native?.bufferedAmount ?? 0) : 0)
  }

  get binaryType(): BinaryType {
    return this.#binaryType ?? this.#native?.binaryType ?? 'blob'
  }

  set binaryType(value: BinaryType) {
    this.#binaryType = value
    if (this.#native) this.#native.binaryType = value
  }

  /** Failed attempts since the connection was last open for `minUptime`. */
  get retryCount(): number {
    return this.#socket.state.attempt
  }

  /** Writes `data` as-is; while not open it waits in the queue, first in first out. */
  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    const { state, sendRaw } = this.#socket
    const held = this.#held
    if (held) held.push(data as WireData)
    else sendRaw(data as WireData)
    // Counted only when kept: a full queue refuses the message.
    if (held || this.#socket.state.queued > state.queued) this.#queued += size(data)
  }

  /** Closes the connection (or the attempt) and stops reconnecting until `reconnect()`. */
  close(code?: number, reason?: string): void {
    // The core reports the close at once; the event waits for the end of this call.
    this.#socket.close(code, reason)
    if (this.#readyState < CLOSING) this.#readyState = CLOSING
  }

  /** Closes the connection, if any, and connects again at once, from any state. */
  reconnect(code?: number, reason?: string): void {
    const socket = this.#socket
    const held = this.#held
    this.#held = undefined
    if (this.#readyState === OPEN) {
      // The server sees the app's code (the native socket checks it and throws as native
      // does); the core's own close of this socket is then a no-op.
      if (code) this.#native?.close(code, reason)
      socket.reconnect()
      // After: the close the core reports now must not be taken for a second one.
      this.#readyState = CLOSING
    } else {
      if (this.#readyState === CLOSED) this.#readyState = CONNECTING
      socket.connect()
    }
    for (const data of held ?? []) socket.sendRaw(data)
  }

  /** Dispatches `event` after the current call (native sockets never fire synchronously), with `readyState` at `state`. */
  #post(event: Event, state?: ReadyState) {
    queueMicrotask(() => {
      if (state) this.#readyState = state
      super.dispatchEvent(event)
      if (state === CLOSED) this.#readyState = this.#socket.state.status === 'closed' ? CLOSED : CONNECTING
    })
  }
}

// Types only: the typed overloads lib.dom gives WebSocket, for methods EventTarget implements.
// oxlint-disable-next-line no-unsafe-declaration-merging
export interface ReconnectingWebSocket {
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: ReconnectingWebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: ReconnectingWebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void
}

export default ReconnectingWebSocket
