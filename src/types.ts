import type {
  SteadySocketError,
  StorageError,
  ConnectionError,
  MessageError,
  QueueOverflowError,
  SocketClosedError,
  TimeoutError,
} from './errors'

/** A value, or a function (maybe async) that produces it, called before every attempt. */
export type Lazy<T> = T | (() => T | Promise<T>)

/** What a socket is doing now. */
export type SocketStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed'

/** How a connection ended. */
export interface CloseInfo {
  code: number
  reason: string
  wasClean: boolean
}

/** An immutable snapshot of the socket, replaced (never mutated) on every change. */
export interface SocketState {
  readonly status: SocketStatus
  /** Failed attempts since the last stable open. */
  readonly attempt: number
  /** Epoch ms of the next attempt while `'reconnecting'`, else `null`. */
  readonly retryAt: number | null
  /** Frames waiting in the offline queue. */
  readonly queued: number
  /** Deliveries written but not yet acknowledged (`deliver()`). */
  readonly unacked: number
  /** Last heartbeat round trip in ms, or `null` before the first pong. */
  readonly rtt: number | null
  readonly lastClose: CloseInfo | null
  /** The browser's (or the injected environment's) view of the network. */
  readonly online: boolean
}

/** Data a WebSocket can write. */
export type WireData = string | ArrayBuffer | ArrayBufferView | Blob

/** Binary values that `send` always writes as binary frames. */
export type BinaryData = ArrayBuffer | ArrayBufferView | Blob

export interface RetryOptions {
  /** The first retry after a drop is uniform in [0, initialDelay] ms (unless `jitter` is `'none'`): its random phase spreads clients dropped at once. @default 4000 */
  initialDelay?: number
  /** Upper bound of the growing cap and of a server's `retryAfter`, in ms. @default 9500 */
  maxDelay?: number
  /** Growth of the cap per retry: retry n has cap `min(maxDelay, initialDelay · factor^(n-1))`. @default 1.3 */
  factor?: number
  /** Random share of retries after the first: `'full'` (1) uniform in [0, cap], `'equal'` (0.5) in [cap/2, cap], `'none'` (0) the cap with no randomness at all, or a number in [0, 1]. @default 0.2 */
  jitter?: 'full' | 'equal' | 'none' | number
  /** Retries before giving up (status `'closed'`). @default Infinity */
  maxAttempts?: number
  /** Give up after this many ms without an open connection (since it was lost, or since the first attempt). @default Infinity */
  maxElapsed?: number
  /** An open connection resets the attempt count only after this many ms. @default 5000 */
  stableAfter?: number
  /** Random source in [0, 1). @default Math.random */
  random?: () => number
}

export interface HeartbeatOptions {
  /** Silence (no incoming frame) in ms before a ping is sent; with `mode: 'always'`, the period of pings. @default 25000 */
  interval?: number
  /** `'idle'`: ping after `interval` with no incoming frame; `'always'`: ping every `interval` whatever arrives. @default 'idle' */
  mode?: 'idle' | 'always'
  /** Time in ms to wait for any frame after a ping before the connection is dead. @default 10000 */
  timeout?: number
  /** The ping frame, sent as-is (not through the codec). @default 'ping' */
  ping?: WireData | (() => WireData)
  /** Tells pong frames apart; pongs are not delivered as messages. Default: `'pong'` or an echo of the last string ping. */
  isPong?: (data: unknown) => boolean
}

export interface QueueOptions {
  /** Most frames kept while not open. @default 1000 */
  maxMessages?: number
  /** Most bytes (as on the wire) kept while not open. @default Infinity */
  maxBytes?: number
  /** Which frame goes when a bound is hit. @default 'drop-oldest' */
  overflow?: 'drop-oldest' | 'drop-newest'
  /** A frame older than this many ms is dropped at flush time. @default Infinity */
  ttl?: number
  /** Makes the queue and unacknowledged deliveries durable (see `indexedDBStore()` in `steadysocket/outbox`). */
  store?: OutboxStore
}

export interface DeliveryOptions<In = unknown> {
  /** Most deliveries written and not yet acknowledged at once; the rest wait in order. @default 100 */
  inFlight?: number
  /** Ms from the call after which `deliver()` rejects with `TimeoutError`. @default Infinity */
  ttl?: number
  /** Tells the server's acknowledgement of delivery `id`. Default: a message whose `request.idField` equals `id`. */
  isAck?: (message: In, id: string) => boolean
}

/** A frame kept by an `OutboxStore`: what was sent (a store keeps binary data as bytes or a Blob). */
export interface OutboxRecord {
  /** Unique within the store; the order of keys is the order of the frames. */
  key: string
  data: WireData
  /** Epoch ms when `send`/`deliver` was called (wall clock, so `ttl` holds across reloads). */
  at: number
  /** Epoch ms after which the frame is dropped; absent: never. */
  expires?: number
  /** The delivery id for `deliver()` frames (kept until acknowledged); absent for `send()` frames (removed once written). */
  id?: string
}

/**
 * A durable home for queued frames and unacknowledged deliveries. `put` and `delete` are
 * called synchronously from `send`/`deliver`/the flush and may finish asynchronously; a
 * rejected promise from `put` is a full or failing store.
 */
export interface OutboxStore {
  /** Frames left by pages (or tabs) that are gone, now this socket's, oldest first. Called once before the first flush. */
  adopt(): Promise<OutboxRecord[]>
  put(record: OutboxRecord): void | Promise<void>
  delete(key: string): void | Promise<void>
  /** Releases what the store holds open (locks, the database); called by `close()`. */
  close?(): void
}

/** Turns app messages into frames and frames into app messages. */
export interface Codec<In = unknown, Out = unknown> {
  encode(message: Out): string | ArrayBuffer | ArrayBufferView
  decode(data: string | ArrayBuffer | Blob): In
}

/** The Standard Schema v1 interface (zod, valibot, arktype…), declared here so no schema library is a dependency. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaIssue> }

export interface StandardSchemaIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** A Standard Schema or a type guard for incoming messages. */
export type Validator<In> = StandardSchemaV1<unknown, In> | ((value: unknown) => value is In) | ((value: unknown) => boolean)

/** A change the environment reports. */
export type EnvironmentSignal = 'online' | 'offline' | 'visible' | 'hidden' | 'pagehide' | 'pageshow' | 'freeze' | 'resume'

/**
 * Where the socket learns about the network, the page and time. The default reads browser
 * globals (`navigator.onLine`, `document.visibilityState`, `online`/`offline`,
 * `visibilitychange`, `pagehide`/`pageshow` with `persisted`); outside a browser it is
 * always online and visible. Inject one for tests and non-DOM runtimes.
 */
export interface Environment {
  /** Is the network up? @default the browser's `navigator.onLine` */
  online?(): boolean
  /** Listen to changes; returns the function that stops listening. Only bfcache `pagehide`/`pageshow` (persisted) are reported. @default the browser's events */
  listen?(listener: (signal: EnvironmentSignal) => void): () => void
  /** Epoch ms. @default Date.now */
  now?: () => number
  setTimeout?: (fn: () => void, ms: number) => unknown
  clearTimeout?: (id: any) => void
}

/** A subscription: what to send on subscribe (and after every reconnect) and on release; `M` is what a type guard `match` lets through. */
export interface SubscriptionSpec<In = unknown, Out = unknown, M extends In = In> {
  /** Sent on subscribe and re-sent on every reconnect; a function is called each time (resume points). */
  subscribe: Out | (() => Out)
  /** Sent when the last holder releases, if open. */
  unsubscribe?: Out | (() => Out)
  /** Which incoming messages go to this subscription's handlers; a type guard (`(m): m is M => …`) narrows what they receive. @default all */
  match?: ((message: In) => message is M) | ((message: In) => boolean)
}

export interface RequestOptions {
  /** Field that carries the correlation id. @default 'id' */
  idField?: string
  /** Ms from the call until the promise rejects with `TimeoutError`. @default 10000 */
  timeout?: number
}

export type SteadySocketErrorType =
  | SteadySocketError
  | StorageError
  | ConnectionError
  | TimeoutError
  | MessageError
  | QueueOverflowError
  | SocketClosedError

/** Events and their payloads. */
export interface SocketEvents<In = unknown> {
  open: { reconnect: boolean }
  message: In
  binary: ArrayBuffer | Blob
  close: CloseInfo & { willReconnect: boolean }
  reconnecting: { attempt: number; delay: number }
  state: SocketState
  error: SteadySocketErrorType
  /** The durable store (`queue.store`) gave back frames that earlier pages left: they go out first, in order. */
  restored: { messages: number; deliveries: string[] }
}

export type SocketEventName = keyof SocketEvents

export type Listeners<In> = { [K in SocketEventName]?: (payload: SocketEvents<In>[K]) => void }

/** A constructor compatible with the browser's `WebSocket`. */
export type WebSocketConstructor = new (url: string | URL, protocols?: string | string[]) => WebSocket

export interface SocketOptions<In = unknown, Out = unknown> {
  /** Subprotocols, or a (maybe async) function called before every attempt. */
  protocols?: Lazy<string | string[] | undefined>
  /** WebSocket implementation. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor | (new (...args: any[]) => any)
  /** Applied to every native socket, including after reconnects. @default 'arraybuffer' */
  binaryType?: BinaryType
  /** No connection until the first `send`, `request`, `subscribe` or `connect()`. @default false */
  lazy?: boolean
  /** Ms a socket may stay CONNECTING before the attempt fails. @default 10000 */
  connectTimeout?: number
  /** Reconnection policy: `false` (no retries), a number (`maxAttempts`) or options. @default {} */
  retry?: boolean | number | RetryOptions
  /** Asked after every close the app did not ask for. @default (close) => !isFatalClose(close) */
  shouldReconnect?: (close: CloseInfo) => boolean
  /** Application-level pings to detect dead connections. @default false */
  heartbeat?: boolean | HeartbeatOptions
  /** Offline queue: `false` keeps nothing. @default {} */
  queue?: boolean | QueueOptions
  /** How messages become frames. @default 'json' */
  codec?: 'json' | 'text' | Codec<In, Out>
  /** Runtime validation of incoming messages. */
  validate?: Validator<In>
  /** Request/response correlation. @default { idField: 'id', timeout: 10000 } */
  request?: RequestOptions
  /** Acknowledged delivery with `deliver()`. @default { inFlight: 100, ttl: Infinity } */
  delivery?: DeliveryOptions<In>
  /** Network, visibility, page-lifecycle and clock sources. @default the browser's */
  environment?: Environment
  /** Listeners registered before the first attempt. */
  on?: Listeners<In>
  /** `true` logs lifecycle steps to `console.debug`; a function receives them instead. @default false */
  debug?: boolean | ((...line: unknown[]) => void)
}

/** The object `createSocket` returns; its methods do not depend on `this`. */
export interface SteadySocket<In = unknown, Out = unknown> {
  /** Writes binary data (`ArrayBuffer`, a typed array, `DataView`, `Blob`) as a binary frame, whatever the codec; `true` if written now. */
  send(data: BinaryData): boolean
  // Declared last: a message that fits neither is reported against `Out`, not against `Blob`.
  /** Encodes and writes a message; `true` if written now, `false` if queued or dropped. */
  send(message: Out): boolean
  /** Writes data as-is, without the codec. */
  sendRaw(data: WireData): boolean
  /** Sends a message with a correlation id and resolves with the reply carrying the same id. */
  request(message: Out, options?: { timeout?: number; signal?: AbortSignal }): Promise<In>
  /** Sends a message at least once: re-sent with the same id on every open until the server acknowledges it. */
  deliver(message: Out, options?: { ttl?: number; signal?: AbortSignal }): Promise<void>
  /** Holds a subscription by key; returns the function that releases it. `onMessage` gets what a type guard `match` narrows to. */
  subscribe<M extends In = In>(key: string, spec: SubscriptionSpec<In, Out, M>, onMessage?: (message: NoInfer<M>) => void): () => void
  /** Adds a listener; returns the function that removes it. */
  on<K extends SocketEventName>(event: K, listener: (payload: SocketEvents<In>[K]) => void): () => void
  /** The current snapshot: the same object until something changes. */
  readonly state: SocketState
  /** Starts (lazy), restarts after `close()`, or attempts now while waiting; resets the backoff. */
  connect(): void
  /** Drops the current connection and attempts again at once. */
  reconnect(): void
  /** Stops for good (until `connect()`); `code` is 1000 or 3000–4999. */
  close(code?: number, reason?: string): void
}
