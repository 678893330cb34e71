import type { WireData } from './types'

/** A frame waiting to be written, or a delivery waiting for its acknowledgement. */
export interface QueuedFrame {
  data: WireData
  /** Bytes as on the wire; 0 when no byte bound is set. */
  size: number
  /** Epoch ms after which the frame is dropped at flush time. */
  expires: number
  /** What the app gave to `send`/`deliver`, reported back when the frame is dropped. */
  value: unknown
  /** The order of the app's calls: frames go out by it, whatever else moves them. */
  seq: number
  /** A delivery's id: it stays until acknowledged. */
  id?: string
  /** A delivery written on the current connection. */
  sent?: boolean
  /** Its key in a durable store, and the store's promise to keep it. */
  key?: string
  saved?: Promise<unknown>
  /** Called with the reason when the frame is dropped (requests and deliveries reject). */
  dropped?: (error: Error) => void
}

export interface FrameQueue {
  /** Every frame, in order; read only. */
  readonly frames: readonly QueuedFrame[]
  /** Frames not on the wire. */
  waiting(): number
  /** Adds a frame; returns the frames the bounds pushed out (maybe the new one). */
  push(frame: QueuedFrame): QueuedFrame[]
  /**
   * The first frame not yet written, or `undefined`; expired ones are removed into
   * `expired` on the way. With `deliveries` false, a delivery stops the walk (the window is full).
   */
  next(now: number, expired: QueuedFrame[], deliveries: boolean): QueuedFrame | undefined
  remove(frame: QueuedFrame): void
  /** Puts frames back (those a dead connection had not transmitted), in their order. */
  restore(frames: QueuedFrame[]): void
}

/** A FIFO bounded by count and bytes. Pure: time comes in as arguments. */
export function createQueue(maxMessages: number, maxBytes: number, dropNewest: boolean): FrameQueue {
  let frames: QueuedFrame[] = []
  let bytes = 0
  const remove = (frame: QueuedFrame) => {
    const at = frames.indexOf(frame)
    if (at >= 0) {
      frames.splice(at, 1)
      bytes -= frame.size
    }
    return frame
  }
  return {
    get frames() {
      return frames
    },
    waiting: () => frames.filter((frame) => !frame.sent).length,
    push(frame) {
      frames.push(frame)
      bytes += frame.size
      const out: QueuedFrame[] = []
      // The bounds held before this push, so dropping the new frame always restores them.
      // A frame larger than maxBytes alone can never fit: it is the one to go.
      while (frames.length > maxMessages || bytes > maxBytes) out.push(remove(dropNewest || frame.size > maxBytes ? frame : frames[0]!))
      return out
    },
    next(now, expired, deliveries) {
      let frame
      while ((frame = frames.find((frame) => !frame.sent)) && frame.expires <= now) expired.push(remove(frame))
      return frame?.id && !deliveries ? undefined : frame
    },
    remove,
    restore(back) {
      for (const frame of back) bytes += frame.size
      frames = [...back, ...frames].sort((a, b) => a.seq - b.seq)
    },
  }
}

/** Bytes a frame takes on the wire: UTF-8 length of text, `byteLength`/`size` of binary. */
export const wireSize = (data: WireData): number =>
  typeof data === 'string' ? new Blob([data]).size : ((data as Blob).size ?? (data as ArrayBuffer).byteLength)
