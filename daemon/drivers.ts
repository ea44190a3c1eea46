import type { Logger } from 'pino';
import { BleDriver } from '../drivers/ble/ble-driver.js';
import type { Driver, DriverDeps } from '../drivers/driver.js';
import { EmbeddedMqttDriver } from '../drivers/mqtt/embedded-driver.js';
import { MqttDriver } from '../drivers/mqtt/mqtt-driver.js';
import { SerialDriver } from '../drivers/serial/serial-driver.js';
import type { Config } from './config.js';
import type { HubState } from './state.js';

export interface DriverSet {
  mqtt?: Driver;
  serial?: Driver;
  ble?: BleDriver;
  /** In start order. */
  all: Driver[];
}

export interface CreateDriversOptions {
  config: Readonly<Config>;
  state: HubState;
  deps: Omit<DriverDeps, 'log'>;
  log: Logger;
  hubId: string;
}

/**
 * The transports the configuration asks for. With the embedded broker, devices publish straight into the hub
 * (their PUBACK waits for the store) and the hub does not also subscribe to an external broker.
 */
export function createDrivers({ config, state, deps, log, hubId }: CreateDriversOptions): DriverSet {
  const set: DriverSet = { all: [] };
  const depsFor = (component: string): DriverDeps => ({ ...deps, log: log.child({ component }) });

  if (config.mqtt.embeddedPort !== undefined) {
    set.mqtt = new EmbeddedMqttDriver(depsFor('mqtt'), { port: config.mqtt.embeddedPort, host: config.mqtt.embeddedHost, topicPrefix: config.mqtt.prefix });
  } else if (config.mqtt.url !== 'off') {
    set.mqtt = new MqttDriver(depsFor('mqtt'), {
      url: config.mqtt.url,
      clientId: config.mqtt.clientId ?? `gymhub-${hubId}`,
      topicPrefix: config.mqtt.prefix,
    });
  }
  if (config.serial.ports !== 'off') {
    set.serial = new SerialDriver({ ...depsFor('serial'), mode: config.serial.ports as 'auto' | string[], baudRate: config.serial.baudRate });
  }
  if (config.ble.enabled) {
    set.ble = new BleDriver({
      ...depsFor('ble'),
      autoPair: config.ble.autoPair,
      // Before its first connection a device is known by its address only, so both keys count.
      paired: () => state.pairedDevices().filter((d) => d.transport === 'ble').flatMap((d) => (d.address ? [d.deviceId, d.address] : [d.deviceId])),
      onPaired: (device) => {
        void state.pair({ deviceId: device.deviceId ?? device.key, transport: 'ble', address: device.address });
      },
    });
  }
  set.all = [set.mqtt, set.serial, set.ble].filter((d): d is Driver => d !== undefined);
  return set;
}
