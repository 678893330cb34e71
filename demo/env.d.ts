/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The fault proxy's `ws://` URL, set by demo/serve.mjs. */
  readonly VITE_DEMO_WS_URL?: string
  /** The control endpoint's `http://` URL, set by demo/serve.mjs. */
  readonly VITE_DEMO_CONTROL_URL?: string
}
