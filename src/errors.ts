import type { CloseInfo } from './types'

type Details = { cause?: unknown; close?: CloseInfo; data?: unknown; issues?: ReadonlyArray<unknown>; dropped?: unknown }

/** Base class of every error steadysocket reports; subclasses carry what the app needs to act. */
export class SteadySocketError extends Error {
  override name: string = 'SteadySocketError'
  constructor(message: string, details?: Details) {
    super(message, details)
    Object.assign(this, details)
  }
}

/** An attempt to connect failed; `close` is set when the server closed it. */
export class ConnectionError extends SteadySocketError {
  declare readonly close?: CloseInfo
  override name = 'ConnectionError' as const
}

/** A connect attempt, a heartbeat or a request took too long. */
export class TimeoutError extends SteadySocketError {
  override name = 'TimeoutError' as const
}

/** A message failed to encode, decode or validate; `data` is the raw frame or the value, `issues` the validator's. */
export class MessageError extends SteadySocketError {
  declare readonly data: unknown
  declare readonly issues?: ReadonlyArray<unknown>
  override name = 'MessageError' as const
}

/** A message was dropped by the offline queue's bounds; `dropped` is what was given to `send`. */
export class QueueOverflowError extends SteadySocketError {
  declare readonly dropped: unknown
  override name = 'QueueOverflowError' as const
}

/** The socket was closed; `dropped` is the message refused, if any. */
export class SocketClosedError extends SteadySocketError {
  declare readonly dropped?: unknown
  override name = 'SocketClosedError' as const
}

/** A durable store (`queue.store`) failed; the socket goes on in memory. */
export class StorageError extends SteadySocketError {
  override name = 'StorageError' as const
}
