import { WebSocket } from 'ws'

/**
 * A `ws` WebSocket class that hands every text frame it is asked to send to `onText`
 * before sending it: what a client really wrote into a native socket, to tell a frame
 * lost from the queue (never written) from one lost in a connection that died.
 * @param {(text: string) => void} onText
 */
export function recordingWebSocket(onText) {
  return class RecordingWebSocket extends WebSocket {
    /** @param {any} data @param {any[]} rest */
    send(data, ...rest) {
      if (typeof data === 'string') onText(data)
      return /** @type {(...args: unknown[]) => void} */ (super.send)(data, ...rest)
    }
  }
}
