import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { RetentionPolicy } from './retention.js';

export interface ReadingStoreOptions {
  /** The LevelDB directory (`<dataDir>/db`). */
  dir: string;
  log: Logger;
  clock: Clock;
  /** Over this, retention deletes the oldest deletable blocks (storage.maxBytes). */
  maxBytes?: number;
  /** At this, append() refuses with StoreFullError (storage.hardMaxBytes; default 1.5 x maxBytes). */
  hardMaxBytes?: number;
  retention?: RetentionPolicy;
  /** A device's journal tail is rewritten as a block at this many readings. */
  blockSamples?: number;
  /** ... or once its oldest reading has waited this long. */
  tailMaxAgeMs?: number;
}

export interface ReadQuery {
  deviceId?: string;
  /** Inclusive, ms since the epoch. */
  from?: number;
  /** Exclusive. */
  to?: number;
  limit: number;
  cursor?: string;
}

export interface StoreStats {
  bytes: number;
  readings: number;
  blocks: number;
  journalEntries: number;
  /** Readings in the journal, not yet in a block. */
  journalReadings: number;
  devices: number;
  /** Readings handed to append() and not yet durable. */
  pendingReadings: number;
  writesInFlight: number;
  lastWriteMs: number;
  maxBytes: number;
  hardMaxBytes: number;
  /** Over maxBytes: retention is deleting, or cannot because what is left is protected. */
  full: boolean;
  /** At hardMaxBytes: append() refuses. */
  overHardLimit: boolean;
  open: boolean;
  /** The last write failure while LevelDB refuses writes (disk full, I/O error), else null. */
  writeError: string | null;
}
