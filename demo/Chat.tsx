import { useRef, useState, type FormEvent } from 'react'
import type { SteadySocket } from 'steadysocket'
import { useSocketState, useSubscription } from 'steadysocket/react'
import type { LogKind } from './App'
import { CHAT_TOPIC, isChatEvent, type ChatPost, type In, type Out } from './protocol'

const NAME = `tab-${Math.random().toString(36).slice(2, 6)}`
const LINES = 100

interface Line extends ChatPost {
  seq: number
}

interface Pending extends ChatPost {
  queued: boolean
}

export function Chat({ socket, write }: { socket: SteadySocket<In, Out>; write: (kind: LogKind, text: string) => void }) {
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
      setLines((previous) => [...previous, { ...post, seq: message.seq }].slice(-LINES))
      setPending((previous) => previous.filter((p) => p.cid !== post.cid))
    },
  )

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const trimmed = text.trim()
    if (!trimmed) return
    const post: ChatPost = { from: NAME, text: trimmed, cid: `${NAME}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}` }
    const written = socket.send({ type: 'publish', topic: CHAT_TOPIC, data: post })
    if (!written) write('chat', `queued "${trimmed}" (${status}): it goes out after the next open`)
    setPending((previous) => [...previous, { ...post, queued: !written }])
    setText('')
  }

  return (
    <>
      <h2>
        Chat <span className="muted">you are {NAME}</span>
      </h2>
      <ol className="chat" data-testid="chat">
        {lines.map((line) => (
          <li key={`${line.seq}-${line.cid}`} className={line.from === NAME ? 'mine' : ''} data-testid="chat-line">
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
        on every reconnect with the last seen seq. Messages typed while down wait in the queue.
      </p>
    </>
  )
}
