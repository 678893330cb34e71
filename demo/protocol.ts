// The JSON protocol of the test server's pub/sub mode (test/server/pubsub.js), as the page uses it.

export interface ChatPost {
  from: string
  text: string
  /** Picked by the sending tab, so it can match the server's event to its own queued line. */
  cid: string
}

export type In =
  | { type: 'event'; topic: string; seq: number; data: unknown }
  | { type: 'subscribed' | 'unsubscribed'; topic: string }
  | { type: string; [field: string]: unknown }

export type Out =
  | { type: 'subscribe'; topic: string; from?: number }
  | { type: 'unsubscribe'; topic: string }
  | { type: 'publish'; topic: string; data: unknown }

export const CHAT_TOPIC = 'chat'

export const isChatEvent = (message: In): message is { type: 'event'; topic: string; seq: number; data: ChatPost } =>
  message.type === 'event' && message.topic === CHAT_TOPIC && typeof message.seq === 'number'
