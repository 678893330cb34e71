import type { CloseInfo } from './types'

/** Close codes steadysocket uses or treats specially. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MandatoryExtension: 1010,
  /** Local only: no frame arrived within `heartbeat.timeout` after a ping. */
  HeartbeatTimeout: 4000,
} as const

/**
 * The default reconnection policy's test: `true` for 1002, 1003, 1007, 1008, 1010 and
 * 4400–4499 ("client error, do not retry"); a server's 1000 and 1001 are not fatal.
 */
export function isFatalClose(close: Pick<CloseInfo, 'code'>): boolean {
  const { code } = close
  return (code >= 4400 && code < 4500) || [1002, 1003, 1007, 1008, 1010].includes(code)
}

/** Reads `{"retryAfter": ms}` from a close reason; `undefined` when there is none. */
export function retryAfter(reason: string): number | undefined {
  if (reason[0] !== '{') return
  try {
    const ms = JSON.parse(reason).retryAfter
    return typeof ms === 'number' && ms >= 0 ? ms : undefined
  } catch {
    return
  }
}
