// The CDN build: Vite's IIFE format assigns these exports to the global `SteadySocket`.
export * from './index'
export { createSharedSocket } from './shared'
export { ReconnectingWebSocket } from './websocket'
