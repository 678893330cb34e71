import type { CloseInfo } from './types'

/** Base class of every error steadysocket reports. */
export class SteadySocketError extends Error {
  override name: string = 'SteadySocketError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** An attempt to connect failed; `close` is set when the server closed it. */
export class ConnectionError extends SteadySocketError {
  override name = 'ConnectionError' as const
  constructor(
    message: string,
    readonly close?: CloseInfo,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** A connect attempt, a heartbeat or a request took too long. */
export class TimeoutError extends SteadySocketError {
  override name = 'TimeoutError' as const
}

/** A message failed to encode, decode or validate; `data` is the raw frame or the value. */
export class MessageError extends SteadySocketError {
  override name = 'MessageError' as const
  constructor(
    message: string,
    readonly data: unknown,
    options?: { cause?: unknown; issues?: ReadonlyArray<unknown> },
  ) {
    super(message, options)
    this.issues = options?.issues
  }
  readonly issues: ReadonlyArray<unknown> | undefined
}

/** A message was dropped by the offline queue's bounds; `dropped` is what was given to `send`. */
export class QueueOverflowError extends SteadySocketError {
  override name = 'QueueOverflowError' as const
  constructor(
    message: string,
    readonly dropped: unknown,
  ) {
    super(message)
  }
}

/** The socket was closed by the app; `dropped` is the message refused, if any. */
export class SocketClosedError extends SteadySocketError {
  override name = 'SocketClosedError' as const
  constructor(
    message: string,
    readonly dropped?: unknown,
  ) {
    super(message)
  }
}
