// Runs in Chromium for `npm run soak` (bench/soak.mjs): soak clients on the built
// dist/steadysocket.js and the page's own WebSocket, through the same fault proxy as the
// Node clients. bench/lib/soak-page.mjs drives it through `window.soak`.
import { createSocket } from '/steadysocket.js'
import { soakMethods } from '/lib/soak-clients.mjs'

// What the page really wrote into a native socket, like test/server's recordingWebSocket: a
// frame never written was lost from the queue, one written was lost in a dying connection.
const recording = (ledger) =>
  class RecordingWebSocket extends WebSocket {
    send(data) {
      if (typeof data === 'string') ledger.wrote(data)
      super.send(data)
    }
  }

window.soak = soakMethods(createSocket, recording)
