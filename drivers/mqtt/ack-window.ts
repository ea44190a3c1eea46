/**
 * The in-flight window of one connection: QoS 1 PUBLISHes whose readings are being stored, acknowledged
 * strictly in the order they arrived (MQTT 3.1.1 section 4.6, MQTT 5 section 4.6), each only once its own
 * work has resolved. Work runs concurrently, so the store can merge many messages into one write.
 *
 * When a message's work rejects (the store refused the readings) nothing from that message on may be
 * acknowledged. The window says so at once (onRefused: the caller must stop taking new messages), then
 * reports the failure once every earlier message is settled and acked (onFailure: the caller drops the
 * connection and the broker redelivers the rest).
 */

interface Entry {
  /** Undefined for QoS 0 messages, which are tracked only so that drain() waits for their work. */
  messageId: number | undefined;
  /** Payload bytes, so the window can be bounded in memory as well as in messages. */
  bytes: number;
  state: 'pending' | 'done' | 'failed';
  error?: unknown;
}

export interface AckWindowHandlers {
  /** Sends the PUBACKs for these packet ids, in this order. */
  sendAcks(messageIds: number[]): void;
  /** A message's work failed: no message from it on will be acknowledged. Called once. */
  onRefused(): void;
  /** The failed message is now the oldest unacknowledged one; no further acks will be sent. Called once. */
  onFailure(error: unknown): void;
}

export class AckWindow {
  private entries: Entry[] = [];
  private head = 0;
  private failed = false;
  private refused = false;
  private bytesInFlight = 0;
  private drainWaiters: Array<() => void> = [];

  constructor(private readonly handlers: AckWindowHandlers) {}

  /** Messages received and not yet acknowledged (or, for QoS 0, not yet settled). */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** Payload bytes of the messages counted by size. */
  get bytes(): number {
    return this.bytesInFlight;
  }

  /**
   * Tracks one received message. `work` is its storage (undefined when there is nothing to wait for:
   * status messages, payloads with no valid reading). `messageId` undefined means QoS 0: nothing to ack.
   */
  add(messageId: number | undefined, work: Promise<void> | undefined, bytes = 0): void {
    const entry: Entry = { messageId, bytes, state: work ? 'pending' : 'done' };
    this.entries.push(entry);
    this.bytesInFlight += bytes;
    if (!work) {
      this.flush();
      return;
    }
    work.then(
      () => {
        entry.state = 'done';
        this.flush();
      },
      (error: unknown) => {
        // A QoS 0 message has no ack to withhold; its caller counts the loss.
        entry.state = messageId === undefined ? 'done' : 'failed';
        entry.error = error;
        if (entry.state === 'failed' && !this.refused) {
          this.refused = true;
          this.handlers.onRefused();
        }
        this.flush();
      },
    );
  }

  /** Resolves once every tracked message has settled (and its ack, if any, was handed to sendAcks). */
  drain(): Promise<void> {
    if (this.allSettled()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private flush(): void {
    const acks: number[] = [];
    while (!this.failed && this.head < this.entries.length) {
      const entry = this.entries[this.head];
      if (entry.state === 'pending') break;
      if (entry.state === 'failed') {
        this.failed = true;
        if (acks.length > 0) this.handlers.sendAcks(acks);
        acks.length = 0;
        this.handlers.onFailure(entry.error);
        break;
      }
      if (entry.messageId !== undefined) acks.push(entry.messageId);
      this.bytesInFlight -= entry.bytes;
      this.head++;
    }
    if (acks.length > 0) this.handlers.sendAcks(acks);
    this.compact();
    if (this.drainWaiters.length > 0 && this.allSettled()) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private allSettled(): boolean {
    for (let i = this.head; i < this.entries.length; i++) {
      if (this.entries[i].state === 'pending') return false;
    }
    return true;
  }

  /** Drops acknowledged entries now and then instead of shifting the array on every ack. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
