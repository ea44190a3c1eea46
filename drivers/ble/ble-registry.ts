import type { Clock } from '../../daemon/clock.js';
import type { BlePeripheral } from './ble-binding.js';
import type { DiscoveredBleDevice } from './ble-events.js';
import { identityKeys, normalizePairingKey, PairingSet } from './pairing.js';
import { PeripheralLink, type LinkHooks } from './peripheral-link.js';

export const MAX_DISCOVERED_DEVICES = 64;

type SeenDevice = DiscoveredBleDevice & { peripheral: BlePeripheral };

/**
 * Who is who: the pairing keys, a link per paired peripheral, and the unpaired peripherals seen advertising
 * the service. Pure bookkeeping; the driver does the connecting and the reporting.
 */
export class BleRegistry {
  readonly links = new Map<string, PeripheralLink>();
  private readonly pairing = new PairingSet();
  private readonly seen = new Map<string, SeenDevice>();

  constructor(
    private readonly clock: Clock,
    private readonly hooks: LinkHooks,
  ) {}

  seed(keys: Iterable<string>): void {
    for (const value of keys) {
      const key = normalizePairingKey(value);
      if (key !== undefined) this.pairing.add(key);
    }
  }

  pairedKeys(): string[] {
    return this.pairing.list();
  }

  isPaired(link: PeripheralLink): boolean {
    return this.pairing.matches(link.identity());
  }

  linkOf(peripheral: BlePeripheral): PeripheralLink | undefined {
    return this.links.get(peripheral.id.toLowerCase());
  }

  isCurrent(link: PeripheralLink): boolean {
    return this.links.get(link.key) === link;
  }

  /** The link connected under this deviceId, other than `except`. */
  connectedLink(deviceId: string, except?: PeripheralLink): PeripheralLink | undefined {
    return [...this.links.values()].find((link) => link !== except && link.deviceId === deviceId && link.phase === 'connected');
  }

  /** A new link when a pairing key names this (unlinked) peripheral; undefined when it is not paired. */
  linkIfPaired(peripheral: BlePeripheral): PeripheralLink | undefined {
    const identity = { id: peripheral.id, address: peripheral.address, localName: peripheral.advertisement.localName };
    return this.pairing.matches(identity) ? this.addLink(peripheral) : undefined;
  }

  /** ble.autoPair: pairs the peripheral under its address (its id where the stack hides addresses). */
  autoPair(peripheral: BlePeripheral): { key: string; link: PeripheralLink } {
    const key = normalizePairingKey(peripheral.address) ?? peripheral.id.toLowerCase();
    this.pairing.add(key);
    return { key, link: this.addLink(peripheral) };
  }

  /** Adds a pairing key; links the peripheral it names if one was seen. Throws RangeError for a bad key. */
  pair(idOrAddress: string): { key: string; added: boolean; link?: PeripheralLink } {
    const key = normalizePairingKey(idOrAddress);
    if (key === undefined) throw new RangeError(`not a deviceId or BLE address: ${JSON.stringify(idOrAddress)}`);
    const added = this.pairing.add(key);
    let link = this.findLink(key);
    if (!link) {
      const seen = [...this.seen.values()].find((device) => identityKeys(device).includes(key));
      if (seen) link = this.addLink(seen.peripheral);
    }
    return { key, added, link };
  }

  /**
   * Removes the key and every other key naming the same device, and its link (returned for the driver to
   * close); the peripheral goes back to the discovered list. Undefined when nothing was paired by that name.
   */
  unpair(idOrAddress: string): { keys: string[]; link?: PeripheralLink } | undefined {
    const key = normalizePairingKey(idOrAddress);
    if (key === undefined) return undefined;
    const keys = new Set<string>();
    if (this.pairing.delete(key)) keys.add(key);
    const link = this.findLink(key);
    if (link) {
      for (const removed of this.pairing.removeMatching(link.identity())) keys.add(removed);
      this.links.delete(link.key);
      if (link.peripheral) this.remember(link.peripheral);
    }
    return keys.size === 0 && !link ? undefined : { keys: [...keys], link };
  }

  /** Records an unpaired peripheral; returns its entry when it is new. */
  remember(peripheral: BlePeripheral): DiscoveredBleDevice | undefined {
    const id = peripheral.id.toLowerCase();
    const isNew = !this.seen.has(id);
    const device: SeenDevice = { id, address: peripheral.address, rssi: peripheral.rssi, lastSeen: this.clock.now(), peripheral };
    if (peripheral.advertisement.localName) device.localName = peripheral.advertisement.localName;
    this.seen.set(id, device);
    if (this.seen.size > MAX_DISCOVERED_DEVICES) {
      const oldest = [...this.seen.values()].reduce((a, b) => (b.lastSeen < a.lastSeen ? b : a));
      this.seen.delete(oldest.id);
    }
    return isNew && this.seen.has(id) ? publicEntry(device) : undefined;
  }

  /** Unpaired devices advertising the gymhub service, newest first. */
  discovered(): DiscoveredBleDevice[] {
    return [...this.seen.values()].map(publicEntry).sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** The adapter went away: every peripheral object is stale, and the seen list with them. */
  forgetPeripherals(): void {
    for (const link of this.links.values()) link.peripheral = undefined;
    this.seen.clear();
  }

  private findLink(key: string): PeripheralLink | undefined {
    return [...this.links.values()].find((link) => identityKeys(link.identity()).includes(key));
  }

  private addLink(peripheral: BlePeripheral): PeripheralLink {
    const key = peripheral.id.toLowerCase();
    this.seen.delete(key);
    const link = new PeripheralLink(key, peripheral, this.hooks);
    this.links.set(key, link);
    return link;
  }
}

function publicEntry({ peripheral, ...device }: SeenDevice): DiscoveredBleDevice {
  return { ...device, rssi: peripheral.rssi };
}
