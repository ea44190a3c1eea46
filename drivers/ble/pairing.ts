import { isDeviceId } from '../reading.js';

const MAC_PATTERN = /^[0-9a-f]{2}(?:[:-]?[0-9a-f]{2}){5}$/i;

/**
 * The form a pairing key is stored and compared in. Addresses are written many ways (`AA:BB:..`,
 * `aa-bb-..`, noble's Linux id `aabb..`): they become bare lower-case hex. Anything else (a deviceId, a macOS
 * peripheral UUID) stays as given, since deviceIds are case-sensitive. Undefined when it can be neither.
 */
export function normalizePairingKey(value: string): string | undefined {
  const trimmed = value.trim();
  if (MAC_PATTERN.test(trimmed)) return trimmed.toLowerCase().replace(/[:-]/g, '');
  return isDeviceId(trimmed) ? trimmed : undefined;
}

export interface PeripheralIdentity {
  id: string;
  address: string;
  localName?: string;
  /** Known once the device has been connected and its info read. */
  deviceId?: string;
}

/**
 * Every key that names this peripheral. Before the first connection only the address, the stack's id and
 * the advertised local name are known, so pairing by deviceId takes effect before connecting only when the
 * firmware advertises its deviceId as its local name.
 */
export function identityKeys(identity: PeripheralIdentity): string[] {
  const keys = new Set<string>();
  for (const value of [identity.id, identity.address, identity.localName, identity.deviceId]) {
    if (!value) continue;
    const key = normalizePairingKey(value);
    if (key !== undefined) keys.add(key);
  }
  const id = identity.id.toLowerCase();
  if (id) keys.add(id);
  return [...keys];
}

/** The paired keys this run knows of; the daemon persists changes through the driver's onPaired/onUnpaired. */
export class PairingSet {
  private readonly keys = new Set<string>();

  /** `key` must be normalised (normalizePairingKey); false when it was already paired. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    return true;
  }

  matches(identity: PeripheralIdentity): boolean {
    return identityKeys(identity).some((key) => this.keys.has(key));
  }

  /** Removes every key naming this peripheral; returns them. */
  removeMatching(identity: PeripheralIdentity): string[] {
    const removed = identityKeys(identity).filter((key) => this.keys.has(key));
    for (const key of removed) this.keys.delete(key);
    return removed;
  }

  delete(key: string): boolean {
    return this.keys.delete(key);
  }

  list(): string[] {
    return [...this.keys];
  }
}
