// A small chat written for the browser's WebSocket, as apps are. The only line changed to
// run it on steadysocket is the import: delete it and `WebSocket` is the native class again.
import WebSocket from './websocket-config.js'

const status = document.querySelector('#status')
const log = document.querySelector('#log')
const line = (text) => log.append(Object.assign(document.createElement('li'), { textContent: text }))

const ws = new WebSocket(new URLSearchParams(location.search).get('ws'))
ws.binaryType = 'arraybuffer'
ws.onopen = () => {
  status.value = 'open'
  line('* connected')
}
ws.onclose = (event) => {
  status.value = 'closed'
  line(`* disconnected (${event.code})`)
}
ws.addEventListener('message', (event) => {
  if (typeof event.data === 'string') line(event.data)
  else line(`(${event.data.byteLength} bytes)`)
})

document.querySelector('#say').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = document.querySelector('#text')
  ws.send(input.value)
  input.value = ''
})
