import type { WireData } from './types'

/** A frame waiting for the connection to open. */
export interface QueuedFrame {
  data: WireData
  /** Bytes as on the wire; 0 when no byte bound is set. */
  size: number
  /** When it was queued (epoch ms). */
  at: number
  /** What the app gave to `send`, reported back when the frame is dropped. */
  value: unknown
  /** Called with the reason when the frame is dropped (requests reject). */
  dropped?: (error: Error) => void
}

export interface FrameQueue {
  readonly length: number
  /** Adds a frame; returns the frames the bounds pushed out (maybe the new one). */
  push(frame: QueuedFrame): QueuedFrame[]
  /** Removes and returns the oldest frame queued within `ttl` of `now`; older ones go to `expired`. */
  shift(now: number, expired: QueuedFrame[]): QueuedFrame | undefined
}

/** A FIFO bounded by count, bytes and age. Pure: time comes in as arguments. */
export function createQueue(maxMessages: number, maxBytes: number, dropNewest: boolean, ttl: number): FrameQueue {
  const frames: QueuedFrame[] = []
  let bytes = 0
  const remove = (frame: QueuedFrame) => {
    frames.splice(frames.indexOf(frame), 1)
    bytes -= frame.size
    return frame
  }
  return {
    get length() {
      return frames.length
    },
    push(frame) {
      frames.push(frame)
      bytes += frame.size
      const out: QueuedFrame[] = []
      // The bounds held before this push, so dropping the new frame always restores them.
      // A frame larger than maxBytes alone can never fit: it is the one to go.
      while (frames.length > maxMessages || bytes > maxBytes) out.push(remove(dropNewest || frame.size > maxBytes ? frame : frames[0]!))
      return out
    },
    shift(now, expired) {
      let frame
      while ((frame = frames[0]) && now - frame.at > ttl) expired.push(remove(frame))
      return frame && remove(frame)
    },
  }
}

/** Bytes a frame takes on the wire: UTF-8 length of text, `byteLength`/`size` of binary. */
export const wireSize = (data: WireData): number =>
  typeof data === 'string' ? new Blob([data]).size : ((data as Blob).size ?? (data as ArrayBuffer).byteLength)
