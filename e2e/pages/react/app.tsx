import { StrictMode, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { useSocket, useSocketEvent, useSocketState } from 'steadysocket/react'

// Bundled by e2e/react.test.ts with `steadysocket` and `steadysocket/react` resolved to
// the built files in dist/, so this page runs the adapter exactly as an app would.

type Echo = { type: 'echo'; text: string }

function Chat({ url }: { url: string }) {
  const socket = useSocket<Echo, Echo>(url)
  const status = useSocketState(socket, (state) => state.status)
  const [echoes, setEchoes] = useState<string[]>([])
  useSocketEvent(socket, 'message', (message) => setEchoes((previous) => [...previous, message.text]))
  return (
    <section>
      <p id="status">{status}</p>
      <button id="send" type="button" onClick={() => socket.send({ type: 'echo', text: `hello ${echoes.length + 1}` })}>
        send
      </button>
      <ul id="echoes">
        {echoes.map((text, index) => (
          <li key={index}>{text}</li>
        ))}
      </ul>
    </section>
  )
}

function App({ url }: { url: string }) {
  const [mounted, setMounted] = useState(true)
  return (
    <main>
      <button id="unmount" type="button" onClick={() => setMounted(false)}>
        unmount
      </button>
      {mounted ? <Chat url={url} /> : <p id="unmounted">unmounted</p>}
    </main>
  )
}

const url = new URLSearchParams(location.search).get('ws')
const root = document.getElementById('root')
if (!url || !root) throw new Error('react.html?ws=ws://127.0.0.1:PORT needs a #root element and a ws URL')
createRoot(root).render(
  <StrictMode>
    <App url={url} />
  </StrictMode>,
)
