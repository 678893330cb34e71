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
  /** Whether `blackhole(true)` is in force. */
  readonly blackholed: boolean
  /** Ms every chunk (and FIN) is held back in each direction; set with `delay()`. */
  readonly latency: number
  /** Holds every chunk back `ms` ms in each direction (so a round trip gains 2 × ms), keeping order; 0 forwards at once. RangeError outside 0–60000. */
  delay(ms: number): void
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

/**
 * HTTP endpoint (GET or POST, JSON answers, CORS `*`) driving a server and proxy: /drop /close /restart /stop /start
 * /refuse /stall /silent /send /publish /blackhole /latency /cut /state /clear. `/restart?down=ms` keeps the server down
 * that long (answering at once); `/blackhole?on=1&for=ms` heals by itself after `for` ms; `/latency?ms=` sets the proxy's
 * delay each way. Bad parameters and unknown routes answer 400 with a message.
 */
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

export interface Nginx {
  /** `ws://127.0.0.1:PORT` */
  readonly url: string
  readonly port: number
  /** nginx's error log so far, for failure messages. */
  errors(): string
  /** Kills nginx and removes its temp dir; idempotent. */
  close(): Promise<void>
}

/** nginx (nginx-light) as a WebSocket reverse proxy on 127.0.0.1 in front of `upstreams`, round robin; a child process. */
export function startNginx(options: { upstreams: number[]; readTimeout?: string; maxFails?: number; failTimeout?: string }): Promise<Nginx>

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number>

/** A connection a fleet backend accepted: `client` from the URL's `?client=`, every frame received (JSON parsed). */
export interface FleetConnection {
  backend: number
  conn: number
  client: string
  frames: unknown[]
  closed: boolean
}

export interface Fleet {
  /** nginx's `ws://127.0.0.1:PORT` */
  readonly url: string
  readonly backends: ReadonlyArray<{ readonly index: number; readonly port: number; readonly connections: number }>
  /** Every accept, per backend, at `performance.now()` ms. */
  readonly accepts: ReadonlyArray<{ backend: number; at: number }>
  readonly connections: ReadonlyArray<FleetConnection>
  /** Connections open now, over all backends. */
  readonly open: number
  /** Resolves when `check()` holds, checked on every accept, frame and close; rejects after `timeoutMs` (default 10 s). */
  waitFor(check: () => boolean, what: string | (() => string), timeoutMs?: number): Promise<void>
  /** Restarts the backends one at a time: close every client with `code` (1012) and `reason`, down `downtime` ms, then wait for `settled()`. */
  rollingDeploy(options: { code?: number; reason: string; downtime: number; settled: () => Promise<unknown>; graceMs?: number }): Promise<void>
  /** Accepts per backend in 100 ms buckets from `since`, and the most any backend took within any 100 ms. */
  acceptCounts(since: number): { buckets: number[][]; busiest: number }
  close(): Promise<void>
}

/** `backends` `ws` servers (default 3) behind nginx on 127.0.0.1; subscribe frames are answered, frames with an `id` acknowledged with `{ id, type: 'ack' }`. */
export function startFleet(options?: { backends?: number }): Promise<Fleet>

export interface HostileHandlers {
  /** Sees every upgrade request first (`n` from 1); return `true` when it took the socket over (answered, held or destroyed it). */
  upgrade?(socket: import('node:net').Socket, n: number, req: import('node:http').IncomingMessage): boolean | void
  /** Runs for every accepted WebSocket connection (`n` from 1). */
  connection?(ws: import('ws').WebSocket, n: number, req: import('node:http').IncomingMessage): void
}

export interface HostileServer {
  /** `ws://127.0.0.1:PORT` */
  readonly url: string
  readonly port: number
  readonly upgrades: number
  readonly accepted: number
  /** WebSocket connections open now. */
  readonly open: number
  /** TCP connections open now, upgraded or not. */
  readonly sockets: number
  /** The most TCP connections open at once so far. */
  readonly maxSockets: number
  /** Resolves when `check()` holds, checked on every upgrade, open and close; rejects after `timeoutMs` (default 10 s). */
  waitFor(check: () => boolean, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** A server on 127.0.0.1 that misbehaves as the handlers say (floods, bad frames, HTTP answers to upgrades, stalls). */
export function startHostile(handlers: HostileHandlers): Promise<HostileServer>

export interface PythonServer {
  /** `ws://127.0.0.1:PORT`; the same after start(). */
  readonly url: string
  readonly port: number
  /** Kills the process (SIGTERM): connections drop. */
  stop(): Promise<void>
  /** Starts it again on the same port. */
  start(): Promise<void>
  close(): Promise<void>
}

/** Runs `python_echo.py` (websockets) or `python_aiohttp.py` from test/server with /usr/bin/python3; `extraArgs` follow the port. */
export function startPython(script: 'python_echo.py' | 'python_aiohttp.py', options?: { extraArgs?: string[]; packages?: string }): Promise<PythonServer>

/** A `ws` WebSocket class that hands every text frame it sends to `onText` first. */
export function recordingWebSocket(onText: (text: string) => void): typeof import('ws').WebSocket
