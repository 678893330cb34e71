import { useCallback, useEffect, useState, useSyncExternalStore } from 'react'
import type { Role, SharedSocket } from 'steadysocket/shared'
import { serverView, type ServerView } from './control'
import type { In, Out } from './protocol'
import { TAB, USER } from './tab'

/** How often the page asks for the server's count. */
const POLL = 1000

const ROLES: Record<Role, string> = {
  leader: 'this tab holds the one connection for every tab of this user',
  follower: "this tab uses the leader tab's connection, through a BroadcastChannel",
  solo: 'this tab has a connection of its own (no Web Locks or BroadcastChannel here)',
}

/** The tab's role, re-rendering on the socket's `role` event. */
function useRole(socket: SharedSocket<In, Out>): Role {
  const subscribe = useCallback((changed: () => void) => socket.on('role', changed), [socket])
  return useSyncExternalStore(subscribe, () => socket.role)
}

/**
 * Polled rather than pushed: a stream held open by every tab would take one of the six
 * connections the browser allows per host, and a few tabs would starve the page's own loads.
 * `undefined` until the first answer, `null` while the server does not answer.
 */
function useServerView(): ServerView | null | undefined {
  const [view, setView] = useState<ServerView | null>()
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = async () => {
      const next = await serverView()
      if (stopped) return
      setView(next)
      timer = setTimeout(() => void poll(), POLL)
    }
    void poll()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [])
  return view
}

const plural = (n: number, word: string) => `${word}${n === 1 ? '' : 's'}`

export function Tabs({ socket, name }: { socket: SharedSocket<In, Out>; name: string }) {
  const role = useRole(socket)
  const view = useServerView()
  // In the tab strip too, so a visitor with several tabs sees which one leads.
  useEffect(() => {
    document.title = `${role} · steadysocket demo`
  }, [role])

  return (
    <>
      <div className="tabs-row">
        <span className={`badge role role-${role}`} data-testid="role">
          {role}
        </span>
        <span>
          <b>{TAB}</b> of user <b>{USER}</b>: {ROLES[role]}
        </span>
        <a className="button" href={location.href} target="_blank" data-testid="open-tab">
          Open another tab
        </a>
      </div>
      <div className="tabs-row server-view" data-testid="server-view">
        {view === undefined ? (
          <span className="muted">asking the server…</span>
        ) : view === null ? (
          <span className="muted">no answer from the server's control: is npm run demo still running?</span>
        ) : (
          <span>
            The server sees <b data-testid="server-connections">{view.connections}</b> open{' '}
            {plural(view.connections, 'connection')}
            {view.listening ? '' : ' (it is down)'} and has accepted <b data-testid="server-total">{view.totalConnections}</b>{' '}
            since the demo started.
          </span>
        )}
      </div>
      <p className="muted">
        <code>createSharedSocket(url, {'{'} name: '{name}', … {'}'})</code>: the tabs of one user elect a leader with Web
        Locks; it alone connects, and the others send and receive through it. Open more tabs: the server still sees one
        connection. Close the leader: another tab takes over within about a second.{' '}
        <code>?user=</code> in the URL is another user, with a connection of its own.
      </p>
    </>
  )
}
