// The app's one import: steadysocket's WebSocket with the heartbeat on (a half-open
// connection is only found by pinging) and short delays for the test. The echo server
// answers 'ping' with 'ping', which the default isPong takes as the pong.
import ReconnectingWebSocket from 'steadysocket/websocket'

export default class WebSocket extends ReconnectingWebSocket {
  constructor(url, protocols) {
    super(url, protocols, {
      heartbeat: { interval: 500, timeout: 500 },
      minReconnectionDelay: 200,
      maxReconnectionDelay: 500,
      connectionTimeout: 1000,
    })
  }
}
