/** Where demo/serve.mjs put the fault proxy and its control endpoint. */
export const WS_URL = import.meta.env.VITE_DEMO_WS_URL ?? ''
export const CONTROL_URL = import.meta.env.VITE_DEMO_CONTROL_URL ?? ''

/** How long a control call may take before the page reports it failed. */
const CONTROL_TIMEOUT = 5000

/** The WebSocket server's own count, as demo/serve.mjs reports it. */
export interface ServerView {
  listening: boolean
  /** WebSocket connections open now. */
  connections: number
  /** WebSocket connections accepted since the demo started. */
  totalConnections: number
}

export type ControlResult = { ok: true; body: Record<string, unknown> } | { ok: false; error: string }

/**
 * Calls the server's control endpoint (`/drop`, `/restart?down=5000`…). Never throws and
 * never hangs: a refusal, a 4xx with its message, or no answer within 5 s is a failed result.
 */
export async function control(path: string): Promise<ControlResult> {
  if (!CONTROL_URL) return { ok: false, error: 'no control URL: start the page with `npm run demo`' }
  try {
    const response = await fetch(CONTROL_URL + path, { method: 'POST', signal: AbortSignal.timeout(CONTROL_TIMEOUT) })
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>
    if (response.ok && body.ok === true) return { ok: true, body }
    return { ok: false, error: `${response.status}: ${typeof body.error === 'string' ? body.error : response.statusText}` }
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError'
    return {
      ok: false,
      error: timedOut ? `no answer within ${CONTROL_TIMEOUT / 1000} s` : `unreachable (${error instanceof Error ? error.message : String(error)}); is npm run demo still running?`,
    }
  }
}

/**
 * Asks demo/serve.mjs, on the page's own origin, what the WebSocket server sees. Never
 * throws: `null` when nothing answers within 5 s (the page was not started with `npm run demo`).
 */
export async function serverView(): Promise<ServerView | null> {
  try {
    const response = await fetch('/server-view', { cache: 'no-store', signal: AbortSignal.timeout(CONTROL_TIMEOUT) })
    return response.ok ? ((await response.json()) as ServerView) : null
  } catch {
    return null
  }
}
