import type { Codec } from '../drivers/codec/codec.js';
import type { DeviceCommand } from '../drivers/driver.js';
import type { Transport } from '../drivers/reading.js';
import type { DeviceRegistry } from './device-registry.js';
import type { DriverSet } from './drivers.js';
import { BadRequestError, ConflictError, GymhubError, NotFoundError } from './errors.js';
import type { HubState, PairedDevice } from './state.js';

export interface PairRequest {
  transport: Transport;
  deviceId?: string;
  /** BLE peripheral address, serial port path. */
  address?: string;
  /** Default candidate exercises of the device's station. */
  candidates?: string[];
}

/**
 * Pairing, forgetting and commanding devices across transports: what the API's device routes do, in one place
 * that knows the drivers, the state file, the registry and the codec.
 */
export class DeviceAdmin {
  constructor(
    private readonly state: HubState,
    private readonly drivers: DriverSet,
    private readonly registry: DeviceRegistry,
    private readonly codec: Codec,
    private readonly knownClasses: () => string[] | undefined,
  ) {}

  async pair(request: PairRequest): Promise<PairedDevice> {
    this.checkCandidates(request.candidates);
    let deviceId = request.deviceId;
    let address = request.address;
    if (request.transport === 'ble') {
      const ble = this.drivers.ble;
      if (!ble) throw new ConflictError('BLE is off on this hub (GYMHUB_BLE=off)');
      if (!deviceId && !address) throw new BadRequestError('BLE pairing needs a deviceId or an address');
      try {
        const paired = ble.pair(deviceId ?? address!);
        deviceId ??= paired.deviceId ?? paired.key;
        address ??= paired.address;
      } catch (err) {
        if (err instanceof RangeError) throw new BadRequestError(err.message);
        throw err;
      }
    } else if (!deviceId) {
      throw new BadRequestError(`pairing a ${request.transport} device needs its deviceId`);
    }
    return this.state.pair({ deviceId: deviceId!, transport: request.transport, ...(address && { address }), ...(request.candidates && { candidates: request.candidates }) });
  }

  /** Unpairs and forgets a device; its stored readings stay. */
  async forget(deviceId: string): Promise<void> {
    const paired = this.state.pairedDevice(deviceId);
    const known = this.registry.get(deviceId) !== undefined;
    if (!paired && !known) throw new NotFoundError('device', deviceId);
    if (paired?.transport === 'ble' || this.registry.get(deviceId)?.transport === 'ble') {
      this.drivers.ble?.unpair(deviceId);
      if (paired?.address) this.drivers.ble?.unpair(paired.address);
    }
    if (paired) await this.state.unpair(deviceId);
    this.registry.forget(deviceId);
    this.codec.forget(deviceId);
  }

  /**
   * Sends a command through the transport the device was last heard on (or was paired on). An MQTT broker takes
   * any publish, so trying other transports would report success for a device that never listens there.
   */
  async command(deviceId: string, command: DeviceCommand): Promise<{ transport: Transport }> {
    const device = this.registry.get(deviceId);
    const paired = this.state.pairedDevice(deviceId);
    if (!device && !paired) throw new NotFoundError('device', deviceId);
    const transport = device?.transport ?? paired?.transport;
    const driver = [this.drivers.mqtt, this.drivers.serial, this.drivers.ble].find((d) => d?.transport === transport);
    if (driver?.sendCommand && (await driver.sendCommand(deviceId, command))) return { transport: driver.transport };
    const why = transport === 'http' ? 'it sends over HTTP, which has no way back to it' : `it is not connected over ${transport ?? 'any transport'} right now`;
    throw new GymhubError('device_unreachable', `cannot send a command to ${JSON.stringify(deviceId)}: ${why}`, 409, { transport });
  }

  private checkCandidates(candidates: string[] | undefined): void {
    const known = this.knownClasses();
    if (!candidates || !known) return;
    const unknown = candidates.filter((c) => !known.includes(c));
    if (unknown.length > 0) throw new BadRequestError(`unknown exercise(s) ${unknown.join(', ')}; the model knows ${known.join(', ')}`, { unknown, known }, 'unknown_class');
  }
}
