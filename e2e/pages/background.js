// The ESM build and steadysocket/worker-timers, with the harness and, in `window.stamps`,
// the wall-clock time of every open and close (the tests compare them with the server's).
import * as steadysocket from 'steadysocket'
import { workerTimers } from '/dist/worker-timers.js'

window.installHarness(steadysocket)
window.workerTimers = workerTimers
window.stamps = []
window.debugLines = []
const open = window.harness.open
window.harness.open = (urls, options) => {
  open(urls, options)
  const socket = window.harness.socket
  socket.on('open', ({ reconnect }) => window.stamps.push({ event: reconnect ? 'open:reconnect' : 'open', at: Date.now() }))
  socket.on('close', ({ code }) => window.stamps.push({ event: `close:${code}`, at: Date.now() }))
}
