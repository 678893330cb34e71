export { createSocket } from './socket'
export { backoffDelay } from './backoff'
export { CloseCode, isFatalClose } from './close-codes'
export { browserEnvironment } from './environment'
export {
  SteadySocketError,
  ConnectionError,
  TimeoutError,
  MessageError,
  QueueOverflowError,
  SocketClosedError,
  StorageError,
} from './errors'
export type * from './types'
