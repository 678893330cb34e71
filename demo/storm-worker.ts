import { simulateStorm } from './simulate-storm'

export interface StormRequest {
  id: number
  clients: number
  downFor: number
  seed: number
}

// Off the main thread, so drawing a fleet never stalls the live status and the log.
self.onmessage = ({ data }: MessageEvent<StormRequest>) => {
  const { id, clients, downFor, seed } = data
  const results = [simulateStorm(clients, downFor, {}, seed), simulateStorm(clients, downFor, { jitter: 'none' }, seed)]
  self.postMessage({ id, results }, { transfer: results.map((result) => result.attempts.buffer) })
}
