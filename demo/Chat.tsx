import { useRef, useState, type FormEvent } from 'react'
import { useSocketEvent, useSocketState, useSubscription } from 'steadysocket/react'
import type { SharedSocket } from 'steadysocket/shared'
import type { LogKind } from './App'
import { CHAT_TOPIC, isChatEvent, type ChatPost, type In, type Out } from './protocol'
import { TAB } from './tab'

const LINES = 100

interface Line extends ChatPost {
  seq: number
}

interface Pending extends ChatPost {
  queued: boolean
}

export function Chat({ socket, write }: { socket: SharedSocket<In, Out>; write: (kind: LogKind, text: string) => void }) {
  const [lines, setLines] = useState<Line[]>([])
  const [pending, setPending] = useState<Pending[]>([])
  const [text, setText] = useState('')
  const status = useSocketState(socket, (state) => state.status)
  // The resume point: after a reconnect the server replays only what this tab missed.
  const lastSeq = useRef(0)

  useSubscription(
    socket,
    CHAT_TOPIC,
    {
      subscribe: (): Out => ({ type: 'subscribe', topic: CHAT_TOPIC, from: lastSeq.current }),
      unsubscribe: { type: 'unsubscribe', topic: CHAT_TOPIC },
      match: isChatEvent,
    },
    (message) => {
      if (!isChatEvent(message)) return
      lastSeq.current = Math.max(lastSeq.current, message.seq)
      const post = message.data
      const seq = message.seq
      // In seq order and once each: the history asked for below reaches every tab, and may
      // come after events this tab already has.
      setLines((previous) =>
        previous.some((line) => line.seq === seq) ? previous : [...previous, { ...post, seq }].sort((x, y) => x.seq - y.seq).slice(-LINES),
      )
      setPending((previous) => previous.filter((p) => p.cid !== post.cid))
    },
  )

  // A tab that joins a shared connection sends no subscribe frame of its own (the leader's
  // subscription already brings the chat), so the server replays nothing for it: on its first
  // open, a follower asks for the history once, and the other tabs drop what they have.
  const joined = useRef(false)
  useSocketEvent(socket, 'open', () => {
    if (joined.current) return
    joined.current = true
    if (socket.role === 'follower') socket.send({ type: 'subscribe', topic: CHAT_TOPIC, from: 0 })
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const trimmed = text.trim()
    if (!trimmed) return
    const post: ChatPost = { from: TAB, text: trimmed, cid: `${TAB}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}` }
    // false: it waits in the queue (in a follower too, send() is true while the leader's connection is open).
    const queued = !socket.send({ type: 'publish', topic: CHAT_TOPIC, data: post })
    if (queued) write('chat', `queued "${trimmed}" (${status}): it goes out after the next open`)
    setPending((previous) => [...previous, { ...post, queued }])
    setText('')
  }

  return (
    <>
      <h2>
        Chat <span className="muted">you are {TAB}</span>
      </h2>
      <ol className="chat" data-testid="chat">
        {lines.map((line) => (
          <li key={`${line.seq}-${line.cid}`} className={line.from === TAB ? 'mine' : ''} data-testid="chat-line">
            <b>{line.from}</b> <span className="chat-text">{line.text}</span>
          </li>
        ))}
        {pending.map((line) => (
          <li key={line.cid} className="pending" data-testid="chat-pending">
            <b>{line.from}</b> <span className="chat-text">{line.text}</span> <i>{line.queued ? 'queued' : 'sending'}</i>
          </li>
        ))}
      </ol>
      <form onSubmit={submit} className="row">
        <input
          data-testid="chat-input"
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder="Say something (works offline too)"
          maxLength={200}
        />
        <button type="submit" data-testid="chat-send">
          Send
        </button>
      </form>
      <p className="muted">
        <code>useSubscription(socket, 'chat', {'{'} subscribe: () =&gt; ({'{'} …, from: lastSeq {'}'}) {'}'})</code>: re-sent
        on every reconnect with the last seen seq, once for all tabs. Messages typed while down wait in the queue.
      </p>
    </>
  )
}
