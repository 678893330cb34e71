import { useCallback, useEffect, useRef, useState } from 'react'
import type { SocketState, SteadySocket } from 'steadysocket'
import { useSocket, useSocketEvent, useSocketState } from 'steadysocket/react'
import { createSharedSocket, type SharedSocket } from 'steadysocket/shared'
import { Chat } from './Chat'
import { WS_URL } from './control'
import { environment } from './environment'
import { Faults } from './Faults'
import { Storm } from './Storm'
import type { In, Out } from './protocol'
import { USER } from './tab'
import { Tabs } from './Tabs'

/** The tabs of one user share one connection under this name. */
const NAME = `demo:${USER}`

/**
 * The options the demo runs with, shown on the page. The heartbeat is short so a
 * half-open connection is caught in seconds (ping after 2 s of silence, dead 2 s later).
 */
const OPTIONS = {
  key: 'demo',
  factory: createSharedSocket,
  name: NAME,
  heartbeat: { interval: 2000, timeout: 2000 },
  connectTimeout: 4000,
  environment,
}

const LOG_LINES = 200
const RTT_SAMPLES = 40

export type LogKind = 'lifecycle' | 'error' | 'control' | 'chat'
export interface LogEntry {
  id: number
  at: number
  kind: LogKind
  text: string
}

/** The reaction to the last fault: what the socket did after the button was pressed. */
export interface Reaction {
  fault: string
  at: number
  steps: string[]
}

let nextId = 0

export function App() {
  // The factory's socket type: a SharedSocket has a `role` too.
  const socket = useSocket<SharedSocket<In, Out>>(WS_URL, OPTIONS)
  const [log, setLog] = useState<LogEntry[]>([])
  const [reaction, setReaction] = useState<Reaction | null>(null)
  const [errors, setErrors] = useState<Record<string, number>>({})

  const write = useCallback((kind: LogKind, text: string) => {
    setLog((lines) => [{ id: nextId++, at: Date.now(), kind, text }, ...lines].slice(0, LOG_LINES))
  }, [])
  const react = useCallback((text: string) => {
    setReaction((current) => current && { ...current, steps: [...current.steps, `+${((Date.now() - current.at) / 1000).toFixed(1)} s ${text}`] })
  }, [])
  const step = useCallback(
    (text: string) => {
      write('lifecycle', text)
      react(text)
    },
    [write, react],
  )

  useSocketEvent(socket, 'open', ({ reconnect }) => step(reconnect ? 'open (reconnected)' : 'open'))
  useSocketEvent(socket, 'close', ({ code, reason, willReconnect }) =>
    step(`close ${code}${reason ? ` "${reason}"` : ''}${willReconnect ? '' : ', stopped (no reconnection)'}`),
  )
  useSocketEvent(socket, 'reconnecting', ({ attempt, delay }) => step(`reconnecting: retry ${attempt} in ${(delay / 1000).toFixed(2)} s`))
  useSocketEvent(socket, 'error', (error) => {
    write('error', `${error.name}: ${error.message}`)
    setErrors((counts) => ({ ...counts, [error.name]: (counts[error.name] ?? 0) + 1 }))
    react(error.name)
  })
  // From the `state` event rather than a render: the log keeps the order the socket acted in.
  const previous = useRef(socket.state.status)
  useSocketEvent(socket, 'state', ({ status }) => {
    if (previous.current !== status) step(`status ${previous.current} → ${status}`)
    previous.current = status
  })

  useEffect(() => socket.on('role', (role) => step(`this tab is now the ${role}`)), [socket, step])

  const fault = useCallback((name: string) => setReaction({ fault: name, at: Date.now(), steps: [] }), [])

  return (
    <div className="page">
      <header>
        <h1>
          steadysocket <span>surviving a bad network</span>
        </h1>
        <p className="lede">
          A real WebSocket to a local server through a fault-injecting proxy. Break the network with the buttons and watch
          the socket recover. Open this page in more tabs: they share that one connection, and chat across outages.
        </p>
      </header>
      <main>
        <section className="card tabs-card">
          <Tabs socket={socket} name={NAME} />
        </section>
        <section className="card status-card">
          <Status socket={socket} />
        </section>
        <section className="card faults-card">
          <Faults socket={socket} onFault={fault} write={write} reaction={reaction} />
        </section>
        <section className="card chat-card">
          <Chat socket={socket} write={write} />
        </section>
        <section className="card log-card">
          <h2>
            Event log{' '}
            <span className="muted" data-testid="error-counts">
              {Object.keys(errors).length === 0
                ? 'no errors yet'
                : `errors: ${Object.entries(errors)
                    .map(([name, count]) => `${name} ×${count}`)
                    .join(' · ')}`}
            </span>
          </h2>
          <ol className="log" data-testid="log">
            {log.map((entry) => (
              <li key={entry.id} className={`log-${entry.kind}`}>
                <time>{new Date(entry.at).toLocaleTimeString([], { hour12: false })}.{String(entry.at % 1000).padStart(3, '0')}</time>
                <span className="kind">{entry.kind}</span>
                <span className="text">{entry.text}</span>
              </li>
            ))}
          </ol>
        </section>
        <section className="card storm-card">
          <Storm />
        </section>
      </main>
    </div>
  )
}

function Status({ socket }: { socket: SteadySocket<In, Out> }) {
  const state = useSocketState(socket)
  const rtts = useRttSamples(socket)
  return (
    <>
      <h2>Connection</h2>
      <div className="status-row">
        <span className={`badge badge-${state.status}`} data-testid="status">
          {state.status}
        </span>
        <Countdown retryAt={state.retryAt} />
      </div>
      <dl className="figures">
        <div>
          <dt>attempt</dt>
          <dd data-testid="attempt">{state.attempt}</dd>
        </div>
        <div>
          <dt>queued</dt>
          <dd data-testid="queued">{state.queued}</dd>
        </div>
        <div>
          <dt>last RTT</dt>
          <dd data-testid="rtt">{state.rtt === null ? '–' : `${Math.round(state.rtt)} ms`}</dd>
        </div>
        <div>
          <dt>online</dt>
          <dd data-testid="online">{state.online ? 'yes' : 'no'}</dd>
        </div>
        <div>
          <dt>unacked</dt>
          <dd data-testid="unacked">{state.unacked ?? 0}</dd>
        </div>
        <div>
          <dt>last close</dt>
          <dd data-testid="last-close">{describeClose(state)}</dd>
        </div>
      </dl>
      <RttChart samples={rtts} />
      <div className="row">
        <button type="button" data-testid="connect" onClick={() => socket.connect()} disabled={state.status === 'open' || state.status === 'connecting'}>
          {state.status === 'closed' ? 'Connect again' : 'Attempt now'}
        </button>
        <button type="button" onClick={() => socket.reconnect()}>
          Reconnect
        </button>
      </div>
      <p className="options">
        <code>
          useSocket(url, {'{'} factory: createSharedSocket, name: '{NAME}', heartbeat: {'{'} interval: 2000, timeout: 2000 {'}'},
          connectTimeout: 4000, environment {'}'})
        </code>
      </p>
    </>
  )
}

const describeClose = (state: SocketState) =>
  state.lastClose ? `${state.lastClose.code}${state.lastClose.reason ? ` ${state.lastClose.reason}` : ''}` : '–'

function Countdown({ retryAt }: { retryAt: number | null }) {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (retryAt === null) return
    setNow(Date.now())
    const timer = setInterval(() => setNow(Date.now()), 100)
    return () => clearInterval(timer)
  }, [retryAt])
  if (retryAt === null) return null
  return (
    <span className="countdown" data-testid="countdown">
      next attempt in {(Math.max(0, retryAt - now) / 1000).toFixed(1)} s
    </span>
  )
}

function useRttSamples(socket: SteadySocket<In, Out>) {
  const [samples, setSamples] = useState<number[]>([])
  const last = useRef<number | null>(null)
  useSocketEvent(socket, 'state', (state) => {
    if (state.rtt === null || state.rtt === last.current) return
    last.current = state.rtt
    const rtt = state.rtt
    setSamples((previous) => [...previous, rtt].slice(-RTT_SAMPLES))
  })
  return samples
}

function RttChart({ samples }: { samples: number[] }) {
  const width = 320
  const height = 70
  const top = Math.max(50, ...samples) * 1.15
  const x = (i: number) => (samples.length < 2 ? width : (i / (RTT_SAMPLES - 1)) * width)
  const y = (rtt: number) => height - (rtt / top) * height
  return (
    <figure className="rtt">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="round-trip times of the last heartbeats" data-testid="rtt-chart">
        <line x1="0" x2={width} y1={y(2000)} y2={y(2000)} className="limit" />
        {samples.length > 0 && <polyline points={samples.map((rtt, i) => `${x(i)},${y(rtt)}`).join(' ')} />}
        {samples.map((rtt, i) => (
          <circle key={i} cx={x(i)} cy={y(rtt)} r="2" />
        ))}
      </svg>
      <figcaption>
        heartbeat RTT, last {samples.length} pings (max {samples.length ? Math.round(Math.max(...samples)) : 0} ms
        {top > 2000 ? '; the line is the 2 s timeout' : ''})
      </figcaption>
    </figure>
  )
}
