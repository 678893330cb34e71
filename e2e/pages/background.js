// The ESM build and steadysocket/worker-timers, with the harness and, in `window.stamps`,
// the wall-clock time of every open and close (the tests compare them with the server's).
import * as steadysocket from 'steadysocket'
import { workerTimers } from '/dist/worker-timers.js'

window.installHarness(steadysocket)
window.workerTimers = workerTimers
window.stamps = []
// The page's own view of the Page Lifecycle, next to the socket's events.
for (const type of ['freeze', 'resume']) document.addEventListener(type, () => window.stamps.push({ event: type, at: Date.now() }))
window.debugLines = []
const open = window.harness.open
window.harness.open = (urls, options) => {
  open(urls, options)
  const socket = window.harness.socket
  socket.on('open', ({ reconnect }) => window.stamps.push({ event: reconnect ? 'open:reconnect' : 'open', at: Date.now() }))
  socket.on('close', ({ code }) => window.stamps.push({ event: `close:${code}`, at: Date.now() }))
}

// A chain of timers, each set from the last one's callback: what Chrome throttles to one
// wake-up a minute in a page hidden past the grace period. The tests check that it was
// throttled, so they know the page under test really was.
window.chainTicks = []
window.startChain = () => {
  const tick = () => {
    window.chainTicks.push(Date.now())
    setTimeout(tick, 1000)
  }
  setTimeout(tick, 1000)
}
