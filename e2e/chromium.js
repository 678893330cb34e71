// Plain JS so both the e2e harness (TypeScript) and the benchmarks (Node .mjs) share it.

/** Debian's Chromium unless CHROMIUM_PATH names another Chromium or Chrome binary. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/**
 * Headless flags for this machine: no sandbox as root, no GPU, and nothing that reaches
 * outside it (background networking, component updates and sync try outside hosts and fail).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
