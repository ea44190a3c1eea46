/**
 * One MQTT client connection (3.1.1 or 5) built on mqtt-packet, mqtt.js's own parser and generator.
 *
 * Why not mqtt.js itself: its client handles incoming packets strictly one at a time. For QoS 1 it calls
 * handleMessage(packet, cb) and reads the next packet only after cb has sent the PUBACK, so acknowledging
 * after a durable store means one store (one fsync) per message, far below the ingest target. Deferring
 * the ack without stalling its parser would mean patching its private _sendPacket. A subscriber is a small
 * part of the protocol (CONNECT, SUBSCRIBE, PUBLISH in at QoS 0/1, PUBACK, PINGREQ, PUBLISH out), so this
 * connection reads ahead instead: every PUBLISH starts its storage at once, an AckWindow sends the PUBACKs
 * in arrival order as the stores resolve, and reading pauses while maxInFlight messages are unacknowledged.
 * With MQTT 5 the same bound is announced to the broker as Receive Maximum.
 */
import net from 'node:net';
import tls from 'node:tls';
import { generate, parser as createParser, type Packet } from 'mqtt-packet';
import type { Clock, Timer } from '../../daemon/clock.js';
import { AckWindow } from './ack-window.js';
import { FramingError, PacketFramer, type OversizedPublish } from './framer.js';
import { disableMqttNumberCache } from './packet-number-cache.js';

export interface ConnectionOptions {
  /** mqtt://, tcp://, mqtts:// or tls:// with host and optional port, user and password. */
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  keepaliveS: number;
  username?: string;
  password?: string;
  tls?: tls.ConnectionOptions;
  connectTimeoutMs: number;
  /** Unacknowledged incoming messages, or their payload bytes, at which reading pauses. */
  maxInFlight: number;
  maxInFlightBytes: number;
  maxPacketBytes: number;
  clock: Clock;
}

export interface InboundPublish {
  topic: string;
  payload: Buffer;
  qos: number;
  dup: boolean;
  retain: boolean;
}

export interface ConnectionHandlers {
  /** Returns the work the message's PUBACK waits for; a rejection drops the connection unacknowledged. */
  onPublish(message: InboundPublish): Promise<void> | undefined;
  onOversized(info: OversizedPublish): void;
  /** Once, when an established connection ends; error is undefined after close(). */
  onClose(error: Error | undefined): void;
}

export class StoreRefusedError extends Error {
  override readonly name = 'StoreRefusedError';
}

/** MQTT 5 session expiry meaning "never", the same as a 3.1.1 persistent session. */
const SESSION_NEVER_EXPIRES_S = 0xffffffff;
const PUBACK_BYTES = 4;
const MAX_MESSAGE_ID = 0xffff;
const SUPPORTED_PROTOCOLS = new Set(['mqtt:', 'tcp:', 'mqtts:', 'tls:', 'ssl:']);

export class MqttConnection {
  sessionPresent = false;
  private readonly framer: PacketFramer;
  private readonly window: AckWindow;
  private readonly parser: ReturnType<typeof createParser>;
  private connackWaiter?: { resolve: () => void; reject: (error: Error) => void };
  private readonly acks = new Map<number, { resolve: (packet: Packet) => void; reject: (error: Error) => void }>();
  private nextMessageId = 1;
  private keepaliveTimer?: Timer;
  private awaitingPong = false;
  private readPaused = false;
  private closing = false;
  private refusing = false;
  private closed = false;
  private established = false;
  private closeError: Error | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.parser = createParser({ protocolVersion: options.protocolVersion });
    this.parser.on('packet', (packet: Packet) => this.onPacket(packet));
    this.parser.on('error', (error: Error) => this.destroy(error));
    this.framer = new PacketFramer(options.maxPacketBytes, {
      onPacket: (buf) => this.parser.parse(buf),
      onOversized: (info) => this.onOversized(info),
    });
    this.window = new AckWindow({
      sendAcks: (ids) => this.sendAcks(ids),
      // Messages read after a refusal would be decoded after the codec forgot the device, and their
      // seqs would make the refused message's redelivery look like a duplicate: take no more.
      onRefused: () => {
        this.refusing = true;
        this.socket.pause();
      },
      onFailure: (error) => this.destroy(new StoreRefusedError('store refused readings', { cause: error })),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk);
      } catch (error) {
        this.destroy(error instanceof FramingError ? error : new FramingError(String(error)));
      }
    });
    socket.on('error', (error) => { this.closeError ??= error; });
    socket.on('close', () => this.onSocketClose());
  }

  /** Opens the socket and completes CONNECT/CONNACK; rejects (and closes) on any failure. */
  static connect(options: ConnectionOptions, handlers: ConnectionHandlers): Promise<MqttConnection> {
    const url = new URL(options.url);
    if (!SUPPORTED_PROTOCOLS.has(url.protocol)) {
      return Promise.reject(new Error(`unsupported broker URL scheme ${url.protocol} (use mqtt:// or mqtts://)`));
    }
    const secure = url.protocol === 'mqtts:' || url.protocol === 'tls:' || url.protocol === 'ssl:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (secure ? 8883 : 1883));
    disableMqttNumberCache();
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...options.tls })
      : net.connect({ host, port });
    const connection = new MqttConnection(socket, options, handlers);
    return connection.handshake(url);
  }

  get inFlight(): number {
    return this.window.size;
  }

  subscribe(subscriptions: Array<{ topic: string; qos: 0 | 1 }>): Promise<number[]> {
    const messageId = this.allocateMessageId();
    const granted = this.awaitAck(messageId).then((packet) => {
      const codes = (packet as { granted?: unknown[] }).granted ?? [];
      return codes.map((code) => (typeof code === 'number' ? code : 0x80));
    });
    this.write({ cmd: 'subscribe', messageId, subscriptions });
    return granted;
  }

  /** QoS 1 resolves once the broker acknowledged the message. */
  async publish(topic: string, payload: Buffer, qos: 0 | 1, retain = false): Promise<void> {
    if (qos === 0) {
      this.write({ cmd: 'publish', topic, payload, qos: 0, retain, dup: false });
      return;
    }
    const messageId = this.allocateMessageId();
    const acked = this.awaitAck(messageId);
    this.write({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false, messageId });
    const packet = await acked;
    const reasonCode = (packet as { reasonCode?: number }).reasonCode ?? 0;
    if (reasonCode >= 0x80) throw new Error(`broker refused publish to ${topic}: reason ${reasonCode}`);
  }

  /**
   * Stops reading, waits (up to drainTimeoutMs) for the messages in flight to be stored and their
   * PUBACKs sent, then sends DISCONNECT and closes.
   */
  async close(drainTimeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    this.socket.pause();
    let timer: Timer | undefined;
    const timedOut = new Promise<void>((resolve) => { timer = this.options.clock.setTimeout(resolve, drainTimeoutMs); });
    await Promise.race([this.window.drain(), timedOut]);
    this.options.clock.clearTimeout(timer);
    if (this.closed) return;
    const closedEvent = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.write({ cmd: 'disconnect' });
    this.socket.destroySoon();
    await closedEvent;
  }

  destroy(error: Error): void {
    if (this.closed) return;
    this.closeError ??= error;
    this.socket.destroy();
  }

  private async handshake(url: URL): Promise<MqttConnection> {
    const { options } = this;
    const connack = new Promise<void>((resolve, reject) => { this.connackWaiter = { resolve, reject }; });
    const timer = options.clock.setTimeout(() => this.destroy(new Error('no CONNACK in time')), options.connectTimeoutMs);
    const username = options.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    this.write({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: options.protocolVersion,
      clientId: options.clientId,
      clean: false,
      keepalive: options.keepaliveS,
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password: Buffer.from(password) }),
      ...(options.protocolVersion === 5 && {
        properties: {
          sessionExpiryInterval: SESSION_NEVER_EXPIRES_S,
          receiveMaximum: Math.min(options.maxInFlight, MAX_MESSAGE_ID),
          maximumPacketSize: options.maxPacketBytes,
        },
      }),
    });
    try {
      await connack;
    } finally {
      options.clock.clearTimeout(timer);
    }
    this.established = true;
    if (options.keepaliveS > 0) {
      this.keepaliveTimer = options.clock.setInterval(() => this.keepalive(), options.keepaliveS * 1000);
    }
    return this;
  }

  private onPacket(packet: Packet): void {
    this.awaitingPong = false;
    switch (packet.cmd) {
      case 'publish': {
        // After destroy() the rest of the current chunk is still parsed; none of it may start a store.
        if (this.closing || this.refusing || this.socket.destroyed) return;
        if (packet.qos > 1 || packet.properties?.topicAlias !== undefined) {
          // We subscribe at QoS 1 and announce no topic aliases, so either is a broker protocol error.
          this.destroy(new Error(`unexpected PUBLISH (qos ${packet.qos}) from broker`));
          return;
        }
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        const work = this.handlers.onPublish({ topic: packet.topic, payload, qos: packet.qos, dup: packet.dup, retain: packet.retain });
        this.track(packet.qos === 1 ? packet.messageId : undefined, work, payload.length);
        return;
      }
      case 'connack': {
        const code = packet.reasonCode ?? packet.returnCode ?? 0;
        const waiter = this.connackWaiter;
        this.connackWaiter = undefined;
        if (code === 0) {
          this.sessionPresent = packet.sessionPresent;
          waiter?.resolve();
        } else {
          const error = new Error(`broker refused connection: code ${code}`);
          waiter?.reject(error);
          this.destroy(error);
        }
        return;
      }
      case 'puback':
      case 'suback':
        if (packet.messageId !== undefined) this.settleAck(packet.messageId, packet);
        return;
      case 'pingresp':
        return;
      case 'disconnect':
        this.destroy(new Error(`broker sent DISCONNECT: reason ${packet.reasonCode ?? 0}`));
        return;
      default:
        this.destroy(new Error(`unexpected ${packet.cmd} packet from broker`));
    }
  }

  private onOversized(info: OversizedPublish): void {
    if (this.closing || this.refusing || this.socket.destroyed) return;
    this.handlers.onOversized(info);
    // It can never become valid: acknowledge it (in order) so the broker does not redeliver it forever.
    this.track(info.qos === 1 ? info.messageId : undefined, undefined, 0);
  }

  private track(messageId: number | undefined, work: Promise<void> | undefined, bytes: number): void {
    this.window.add(messageId, work, bytes);
    if (!this.readPaused && (this.window.size >= this.options.maxInFlight || this.window.bytes >= this.options.maxInFlightBytes)) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  private sendAcks(messageIds: number[]): void {
    if (this.closed) return;
    const buf = Buffer.allocUnsafe(messageIds.length * PUBACK_BYTES);
    // A PUBACK with remaining length 2 is valid in both versions (MQTT 5 reads it as reason code 0, success).
    for (let i = 0; i < messageIds.length; i++) {
      const at = i * PUBACK_BYTES;
      buf[at] = 0x40;
      buf[at + 1] = 0x02;
      buf.writeUInt16BE(messageIds[i], at + 2);
    }
    this.socket.write(buf);
    const { maxInFlight, maxInFlightBytes } = this.options;
    if (this.readPaused && !this.closing && !this.refusing && this.window.size <= maxInFlight / 2 && this.window.bytes <= maxInFlightBytes / 2) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private keepalive(): void {
    // While reading is paused for backpressure a PINGRESP cannot be read, so silence proves nothing then.
    if (this.awaitingPong && !this.readPaused && !this.closing) {
      this.destroy(new Error('keepalive timeout'));
      return;
    }
    this.awaitingPong = true;
    this.write({ cmd: 'pingreq' });
  }

  private write(packet: Packet): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(generate(packet, { protocolVersion: this.options.protocolVersion }));
  }

  private allocateMessageId(): number {
    for (let tries = 0; tries < MAX_MESSAGE_ID; tries++) {
      const id = this.nextMessageId;
      this.nextMessageId = id === MAX_MESSAGE_ID ? 1 : id + 1;
      if (!this.acks.has(id)) return id;
    }
    throw new Error('no free MQTT packet id');
  }

  private awaitAck(messageId: number): Promise<Packet> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.acks.set(messageId, { resolve, reject }));
  }

  private settleAck(messageId: number, packet: Packet): void {
    const waiter = this.acks.get(messageId);
    this.acks.delete(messageId);
    waiter?.resolve(packet);
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.clock.clearInterval(this.keepaliveTimer);
    const error = this.closeError ?? (this.closing ? undefined : new Error('connection closed by broker'));
    for (const waiter of this.acks.values()) waiter.reject(error ?? new Error('connection closed'));
    this.acks.clear();
    if (this.connackWaiter) {
      this.connackWaiter.reject(error ?? new Error('connection closed before CONNACK'));
      this.connackWaiter = undefined;
    }
    if (this.established) this.handlers.onClose(error);
  }
}
