import { useEffect, useState, useSyncExternalStore } from 'react'
import { useSocketState } from 'steadysocket/react'
import type { SharedSocket } from 'steadysocket/shared'
import type { LogKind, Reaction } from './App'
import { control } from './control'
import { isForcedOffline, setForcedOffline, watchForcedOffline } from './environment'
import type { In, Out } from './protocol'

interface Fault {
  id: string
  label: string
  expect: string
  path: () => string
}

const LATENCIES = [0, 100, 400, 1500]

export function Faults({
  socket,
  onFault,
  write,
  reaction,
}: {
  socket: SharedSocket<In, Out>
  onFault: (name: string) => void
  write: (kind: LogKind, text: string) => void
  reaction: Reaction | null
}) {
  const [down, setDown] = useState('5')
  const [latency, setLatency] = useState(0)
  const [busy, setBusy] = useState<string | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  // Switched from any tab: the leader tab, whichever it is, holds the connection.
  const offline = useSyncExternalStore(watchForcedOffline, isForcedOffline)
  const online = useSocketState(socket, (state) => state.online)
  // A real network loss also ends the connection, which the heartbeat would find within 4 s;
  // the tab holding it ends it at once so the offline state shows without the wait. Done where
  // the switch arrives, not where it was pressed: a follower's reconnect() could reach the
  // leader before the switch does (two channels, no order between them).
  useEffect(() => watchForcedOffline(() => isForcedOffline() && socket.role !== 'follower' && socket.reconnect()), [socket])

  const faults: Fault[] = [
    {
      id: 'drop',
      label: 'Drop every connection',
      expect: 'close 1006 → reconnecting after a short jittered delay → open',
      path: () => '/drop',
    },
    {
      id: 'restart',
      label: `Restart the server, down ${down || '?'} s`,
      expect: 'close 1006 → retries fail with growing delays → open once the server is back',
      path: () => `/restart?down=${Math.round(Number(down) * 1000)}`,
    },
    {
      id: 'blackhole',
      label: 'Blackhole for 8 s (half-open)',
      expect: 'no close event from the browser: the heartbeat misses a pong and closes with 4000 within 4 s',
      path: () => '/blackhole?on=1&for=8000',
    },
    {
      id: 'fatal',
      label: 'Close 1008 (fatal)',
      expect: 'close 1008 → closed: a policy violation is not retried; "Connect again" restarts',
      path: () => `/close?code=1008&reason=${encodeURIComponent('policy violation')}`,
    },
    {
      id: 'retry-after',
      label: 'Close 1012 + retryAfter 3 s',
      expect: 'close 1012 → reconnecting no sooner than the server asked (3 s, spread by jitter)',
      path: () => `/close?code=1012&reason=${encodeURIComponent(JSON.stringify({ retryAfter: 3000 }))}`,
    },
    {
      id: 'malformed',
      label: 'Send a malformed frame',
      expect: 'MessageError in the log; the connection stays open',
      path: () => `/send?data=${encodeURIComponent('{"type":"event", oops')}`,
    },
  ]

  const run = async (id: string, label: string, path: string) => {
    setBusy(id)
    setFailure(null)
    onFault(label)
    const result = await control(path)
    setBusy(null)
    if (result.ok) {
      write('control', `${label}: done`)
    } else {
      setFailure(`${label}: ${result.error}`)
      write('error', `control ${path.split('?')[0]} failed: ${result.error}`)
    }
  }

  const toggleOffline = () => {
    const next = !offline
    onFault(next ? 'Page offline' : 'Page online')
    setForcedOffline(next)
    write('control', next ? 'page offline: environment.online() is false' : 'page online again')
  }

  return (
    <>
      <h2>Break the network</h2>
      <p className="muted">
        The buttons act on the server and the proxy, so they break the one connection the leader tab holds, whichever
        tab you press them in: every tab of this user shows the same reaction.
      </p>
      <ul className="faults">
        {faults.map((fault) => (
          <li key={fault.id}>
            <button type="button" data-testid={`fault-${fault.id}`} disabled={busy === fault.id} onClick={() => void run(fault.id, fault.label, fault.path())}>
              {fault.label}
            </button>
            {fault.id === 'restart' && (
              <label className="inline">
                down
                <input
                  data-testid="restart-down"
                  type="number"
                  min="0"
                  step="1"
                  value={down}
                  onChange={(event) => setDown(event.target.value)}
                />
                s
              </label>
            )}
            <small>{fault.expect}</small>
          </li>
        ))}
        <li>
          <label className="inline">
            Latency each way
            <select
              data-testid="fault-latency"
              value={latency}
              onChange={(event) => {
                const ms = Number(event.target.value)
                setLatency(ms)
                void run('latency', `Latency ${ms} ms each way`, `/latency?ms=${ms}`)
              }}
            >
              {LATENCIES.map((ms) => (
                <option key={ms} value={ms}>
                  {ms} ms
                </option>
              ))}
            </select>
          </label>
          <small>RTT in the chart grows by twice the latency; at 1500 ms the pong misses the 2 s timeout and the socket reconnects</small>
        </li>
        <li>
          <button type="button" data-testid="fault-offline" className={offline ? 'active' : ''} aria-pressed={offline} onClick={toggleOffline}>
            {offline ? 'Go online' : 'Go offline'}
          </button>
          <small>
            every tab of the demo, through the <code>environment</code> option (and the connection ended, as a lost
            network would): status offline, no attempts made or counted; back online, an attempt at once
            {online ? '' : ' (offline now)'}
          </small>
        </li>
      </ul>
      {failure && (
        <p className="failure" role="alert" data-testid="control-error">
          Control call failed: {failure}
        </p>
      )}
      <div className="reaction" data-testid="reaction">
        <h3>{reaction ? `Reaction to “${reaction.fault}”` : 'Reaction'}</h3>
        {reaction ? (
          <ol>
            {reaction.steps.length === 0 ? <li className="muted">waiting for the socket…</li> : reaction.steps.map((s, i) => <li key={i}>{s}</li>)}
          </ol>
        ) : (
          <p className="muted">Press a button: what the socket does next appears here.</p>
        )}
      </div>
    </>
  )
}
