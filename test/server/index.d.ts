import type { Buffer } from 'node:buffer'

export type ServerMode = 'echo' | 'pubsub'

export interface ServerOptions {
  /** Port to listen on; 0 picks a free one. @default 0 */
  port?: number
  /** A loopback address only. @default '127.0.0.1' */
  host?: string
  /** `echo` sends every frame back as received; `pubsub` speaks the JSON protocol in test/server/pubsub.js. @default 'echo' */
  mode?: ServerMode
}

/** A frame received from a client; text frames as strings, binary frames as Buffers. */
export interface LogEntry {
  /** 1-based id of the connection, counted across restarts. */
  conn: number
  data: string | Buffer
  binary: boolean
}

/** How a connection ended, as the server saw it (1006 when the TCP socket just went away). */
export interface CloseEntry {
  conn: number
  code: number
  reason: string
}

/** The upgrade request of an accepted connection. */
export interface Handshake {
  conn: number
  /** Path and query string, e.g. `/?token=abc`. */
  url: string
  /** The subprotocol the server picked, or `''`. */
  protocol: string
}

export interface TestServer {
  /** `ws://127.0.0.1:PORT`; the same after restart(). */
  readonly url: string
  readonly port: number
  readonly host: string
  readonly mode: ServerMode
  /** WebSocket connections open now. */
  readonly connections: number
  /** WebSocket connections ever accepted. */
  readonly totalConnections: number
  /** Upgrade requests held unanswered by stall(true). */
  readonly stalled: number
  readonly listening: boolean
  /** Every frame received, in arrival order, across restarts. */
  readonly log: LogEntry[]
  readonly closes: CloseEntry[]
  readonly handshakes: Handshake[]
  /** Empties `log`, `closes` and `handshakes`. */
  clearLog(): void
  /** Resolves when `predicate(server)` is true, checked on every server event; rejects after `timeoutMs`. */
  waitFor(predicate: (server: TestServer) => boolean, timeoutMs?: number): Promise<void>
  /** Resolves when exactly `n` connections are open. */
  waitForConnections(n: number, timeoutMs?: number): Promise<void>
  /** Resolves when at least `n` frames are in the log. */
  waitForLog(n: number, timeoutMs?: number): Promise<void>
  /** Destroys every TCP socket at once, without a close frame: clients see 1006. */
  dropAll(): void
  /** Sends a close frame with `code` and `reason` to every client (throws RangeError for codes a frame cannot carry). */
  closeAll(code: number, reason?: string): void
  /** Stops listening and drops every connection; the log is kept. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  /** stop() then start() on the same port. */
  restart(): Promise<void>
  /** While on, upgrades get HTTP 503 and the socket is closed. */
  refuse(on: boolean): void
  /** While on, upgrade requests are accepted at TCP level but never answered. */
  stall(on: boolean): void
  /** While on, frames are logged but nothing answers them (no echo, replies or pongs); sendRaw and publish still send. */
  silent(on: boolean): void
  /** Sends a frame to every open client; binary defaults to `typeof data !== 'string'`. Returns how many got it. */
  sendRaw(data: string | Buffer | ArrayBuffer | ArrayBufferView, opts?: { binary?: boolean }): number
  /** `pubsub` mode only: broadcasts an event to the topic's subscribers and returns its seq. */
  publish(topic: string, data: unknown): number
  /** Shuts down for good; idempotent. */
  close(): Promise<void>
}

export function startServer(options?: ServerOptions): Promise<TestServer>

export interface ProxyOptions {
  /** Where to forward: a `ws://host:port` URL, or `{ host, port }` (a TestServer fits). */
  target: string | { host?: string; port: number }
  /** Port to listen on, on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number
}

export interface FaultProxy {
  /** `ws://127.0.0.1:PORT` */
  readonly url: string
  readonly port: number
  readonly target: { host: string; port: number }
  /** Proxied connections with at least one side still open. */
  readonly connections: number
  readonly totalConnections: number
  /** Connections whose one side closed during a blackhole while the other side, unaware, stays open. */
  readonly halfOpen: number
  /** Bytes forwarded: `up` client to server, `down` server to client. */
  readonly bytes: { readonly up: number; readonly down: number }
  /** Bytes dropped while blackholed. */
  readonly swallowed: { readonly up: number; readonly down: number }
  /** While on, bytes (and FIN/RST) are dropped both ways but sockets stay open; new connections are accepted and swallowed too. */
  blackhole(on: boolean): void
  /** Destroys every proxied connection. */
  cut(): void
  /** While on, new TCP connections are reset at once. */
  refuse(on: boolean): void
  /** Resolves when `predicate(proxy)` is true, checked on every proxy event; rejects after `timeoutMs`. */
  waitFor(predicate: (proxy: FaultProxy) => boolean, timeoutMs?: number): Promise<void>
  /** Stops listening and cuts everything; idempotent. */
  close(): Promise<void>
}

export function startProxy(options: ProxyOptions): Promise<FaultProxy>

export interface ControlOptions {
  /** @default 0 */
  port?: number
  server: TestServer
  proxy?: FaultProxy
}

export interface Control {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** HTTP endpoint (GET or POST, JSON answers, CORS `*`) driving a server and proxy: /drop /close /restart /stop /start /refuse /stall /silent /send /publish /blackhole /cut /state /clear. */
export function startControl(options: ControlOptions): Promise<Control>

/** An always-online steadysocket environment that counts its listeners and the timers set through it, for leak checks. */
export function countingEnvironment(): {
  readonly listeners: Set<{ listener: unknown }>
  readonly timers: Set<ReturnType<typeof setTimeout>>
  readonly environment: {
    online(): boolean
    listen(listener: (signal: import('../../src/types').EnvironmentSignal) => void): () => void
    setTimeout(fn: () => void, ms: number): ReturnType<typeof setTimeout>
    clearTimeout(id: ReturnType<typeof setTimeout>): void
  }
}
