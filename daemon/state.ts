import { watch } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Low } from 'lowdb';
import { ulid } from 'ulid';
import { systemClock, type Clock } from './clock.js';
import type { Transport } from '../drivers/reading.js';
import { StateFileError } from './state/errors.js';
import { SecureJsonFile } from './state/secure-json-file.js';

export { StateFileError } from './state/errors.js';

export const STATE_FILE_NAME = 'state.json';

export interface PairedDevice {
  deviceId: string;
  transport: Transport;
  /** Serial path or BLE peripheral address, where the transport has one. */
  address?: string;
  pairedAt: number;
  /** Exercises possible at this device's station (SPEC section 6). */
  candidates?: string[];
}

/** `<dataDir>/state.json`: the hub's small mutable state (SPEC section 5). */
export interface HubStateData {
  hubId: string;
  apiTokenHash?: string;
  pairedDevices: PairedDevice[];
  settings: Record<string, unknown>;
}

export interface OpenStateOptions {
  clock?: Clock;
}

/**
 * Typed access to state.json. Reads come from memory; every change is written at once (temp file, fsync,
 * rename, mode 0600) and resolves when it is on disk. Writes are serialised in call order.
 */
export class HubState {
  /**
   * The token hash in the state.json this process last read or wrote. A different one on disk was written
   * by another process (`gymhub token`), and refreshTokenHash() adopts it.
   */
  private knownDiskTokenHash: string | undefined;
  /** ino:mtime:size of state.json when refreshTokenHash() last read it: unchanged means nothing to read. */
  private seenFileIdentity = '';
  private lastWrite: Promise<void> = Promise.resolve();
  private refreshes: Promise<boolean> = Promise.resolve(false);

  constructor(
    private readonly db: Low<HubStateData>,
    private readonly clock: Clock,
  ) {
    this.knownDiskTokenHash = db.data.apiTokenHash;
  }

  get hubId(): string {
    return this.db.data.hubId;
  }

  get path(): string {
    return (this.db.adapter as SecureJsonFile<HubStateData>).path;
  }

  tokenHash(): string | undefined {
    return this.db.data.apiTokenHash;
  }

  setTokenHash(hash: string): Promise<void> {
    return this.change((data) => {
      data.apiTokenHash = hash;
    });
  }

  pairedDevices(): PairedDevice[] {
    return this.db.data.pairedDevices.map((device) => structuredClone(device));
  }

  pairedDevice(deviceId: string): PairedDevice | undefined {
    const device = this.db.data.pairedDevices.find((d) => d.deviceId === deviceId);
    return device && structuredClone(device);
  }

  isPaired(deviceId: string): boolean {
    return this.db.data.pairedDevices.some((d) => d.deviceId === deviceId);
  }

  /** Pairs a device, or updates one already paired (its pairedAt stays the first pairing's). */
  async pair(device: Omit<PairedDevice, 'pairedAt'>): Promise<PairedDevice> {
    let result: PairedDevice | undefined;
    await this.change((data) => {
      const existing = data.pairedDevices.find((d) => d.deviceId === device.deviceId);
      const next: PairedDevice = { ...structuredClone(device), pairedAt: existing?.pairedAt ?? this.clock.now() };
      data.pairedDevices = existing ? data.pairedDevices.map((d) => (d === existing ? next : d)) : [...data.pairedDevices, next];
      result = structuredClone(next);
    });
    return result!;
  }

  /** False when the device was not paired. */
  async unpair(deviceId: string): Promise<boolean> {
    if (!this.isPaired(deviceId)) return false;
    await this.change((data) => {
      data.pairedDevices = data.pairedDevices.filter((d) => d.deviceId !== deviceId);
    });
    return true;
  }

  settings(): Record<string, unknown> {
    return structuredClone(this.db.data.settings);
  }

  setting<T = unknown>(key: string): T | undefined {
    return structuredClone(this.db.data.settings[key]) as T | undefined;
  }

  /** Sets a runtime setting; `undefined` removes it. */
  setSetting(key: string, value: unknown): Promise<void> {
    return this.change((data) => {
      if (value === undefined) delete data.settings[key];
      else data.settings[key] = structuredClone(value);
    });
  }

  /**
   * Adopts the API token hash another process wrote into state.json since this one last read or wrote it
   * (`gymhub token` rotating the token of a running daemon); resolves true when the hash changed. Only the
   * hash is taken: the rest of the state belongs to this process. Never rejects: an unreadable or
   * half-edited file keeps the current hash. Calls run one after another, so a slow read cannot bring back
   * an older hash.
   */
  refreshTokenHash(): Promise<boolean> {
    const next = this.refreshes.then(() => this.readTokenHash());
    this.refreshes = next;
    return next;
  }

  /**
   * Watches state.json so that a rotated token is adopted at once (the old one stops working); onChange
   * follows each adoption. Returns the function that stops watching. Where the directory cannot be watched,
   * onError says so and the new hash is still adopted at the next refreshTokenHash() (the API calls it when
   * a token does not match).
   */
  watchTokenHash(handlers: { onChange?: () => void; onError: (err: Error) => void }): () => void {
    const name = basename(this.path);
    const refresh = () => {
      void this.refreshTokenHash().then((changed) => {
        if (changed) handlers.onChange?.();
      });
    };
    try {
      const watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) refresh();
      });
      watcher.on('error', handlers.onError);
      return () => watcher.close();
    } catch (err) {
      handlers.onError(err as Error);
      return () => undefined;
    }
  }

  private async readTokenHash(): Promise<boolean> {
    // Our own write in flight would otherwise look like someone else's older file.
    await this.lastWrite;
    try {
      const info = await stat(this.path);
      const identity = `${info.ino}:${info.mtimeMs}:${info.size}`;
      if (identity === this.seenFileIdentity) return false;
      const stored = (await this.db.adapter.read()) as Partial<HubStateData> | null;
      this.seenFileIdentity = identity;
      const hash = stored?.apiTokenHash;
      if (typeof hash !== 'string' || hash === this.knownDiskTokenHash) return false;
      this.knownDiskTokenHash = hash;
      this.db.data.apiTokenHash = hash;
      return true;
    } catch {
      return false;
    }
  }

  private async change(fn: (data: HubStateData) => void): Promise<void> {
    fn(this.db.data);
    this.knownDiskTokenHash = this.db.data.apiTokenHash;
    const written = this.db.write();
    this.lastWrite = written.catch(() => undefined);
    await written;
  }
}

/** Opens `<dataDir>/state.json`, creating it (with a fresh hubId) on first start. */
export async function openState(dataDir: string, options: OpenStateOptions = {}): Promise<HubState> {
  await mkdir(dataDir, { recursive: true });
  const adapter = new SecureJsonFile<HubStateData>(join(dataDir, STATE_FILE_NAME));
  const stored = await adapter.read();
  const db = new Low<HubStateData>(adapter, { hubId: '', pairedDevices: [], settings: {} });
  db.data = checked(adapter.path, stored);
  if (stored === null || stored.hubId !== db.data.hubId) await db.write();
  return new HubState(db, options.clock ?? systemClock);
}

/** The stored state with defaults for missing parts; a part of the wrong type is an error, never replaced. */
function checked(path: string, stored: unknown): HubStateData {
  if (stored === null) return { hubId: ulid(), pairedDevices: [], settings: {} };
  const problems: string[] = [];
  if (typeof stored !== 'object' || Array.isArray(stored)) throw new StateFileError(path, ['the top level is not an object']);
  const data = stored as Partial<HubStateData>;
  if (data.hubId !== undefined && (typeof data.hubId !== 'string' || data.hubId.length === 0)) problems.push('hubId is not a non-empty string');
  if (data.apiTokenHash !== undefined && typeof data.apiTokenHash !== 'string') problems.push('apiTokenHash is not a string');
  if (data.pairedDevices !== undefined && !Array.isArray(data.pairedDevices)) problems.push('pairedDevices is not an array');
  if (Array.isArray(data.pairedDevices)) {
    data.pairedDevices.forEach((device, i) => {
      if (typeof device?.deviceId !== 'string' || typeof device?.transport !== 'string') problems.push(`pairedDevices[${i}] lacks deviceId or transport`);
    });
  }
  if (data.settings !== undefined && (typeof data.settings !== 'object' || data.settings === null || Array.isArray(data.settings))) {
    problems.push('settings is not an object');
  }
  if (problems.length > 0) throw new StateFileError(path, problems);
  return {
    ...data,
    hubId: data.hubId ?? ulid(),
    pairedDevices: data.pairedDevices ?? [],
    settings: data.settings ?? {},
  };
}
