import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';

/** A serial port as the host lists it. Ids are lower-case hex without 0x. */
export interface ListedPort {
  path: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  manufacturer?: string;
  /** The /dev/serial/by-id name, when that is all we know about the port. */
  byIdName?: string;
}

/** Lists the host's serial ports; injectable so tests (and odd hosts) can supply their own list. */
export type PortLister = () => Promise<ListedPort[]>;

/** USB bridges and native USB of ESP32 boards (SPEC section 4); the deploy/ udev rules list the same ids. */
export const ESP32_USB_IDS: readonly { vendorId: string; productId: string; chip: string }[] = [
  { vendorId: '10c4', productId: 'ea60', chip: 'CP210x' },
  { vendorId: '1a86', productId: '7523', chip: 'CH340' },
  { vendorId: '1a86', productId: '55d4', chip: 'CH9102' },
  { vendorId: '303a', productId: '1001', chip: 'ESP32-S3/C3 native USB' },
  { vendorId: '0403', productId: '6001', chip: 'FTDI FT232R' },
];

// What those chips call themselves in /dev/serial/by-id, for hosts where sysfs cannot be read.
const BY_ID_CHIP_NAMES = /CP210|Silicon_Labs|1a86|CH340|CH910|QinHeng|Espressif|FT232R|FTDI/i;

export function isEsp32Port(port: ListedPort): boolean {
  if (port.vendorId && port.productId) {
    const vid = normaliseId(port.vendorId);
    const pid = normaliseId(port.productId);
    return ESP32_USB_IDS.some((id) => id.vendorId === vid && id.productId === pid);
  }
  return port.byIdName !== undefined && BY_ID_CHIP_NAMES.test(port.byIdName);
}

export function normaliseId(id: string): string {
  return id.trim().toLowerCase().replace(/^0x/, '').padStart(4, '0');
}

export interface PortListerOptions {
  log: Logger;
  /** Where sysfs and /dev live; tests point these at a fake tree. */
  sysRoot?: string;
  devRoot?: string;
  /** The serialport library's list; by default imported lazily. */
  listNative?: PortLister;
}

/**
 * serialport's list() asks udevadm, which minimal images (containers, some Pi setups) do not have. Then the
 * ports are read from sysfs directly, and failing that from /dev/serial/by-id. It never throws: a host whose
 * ports cannot be listed simply has none.
 */
export function createPortLister(options: PortListerOptions): PortLister {
  const sysRoot = options.sysRoot ?? '/sys';
  const devRoot = options.devRoot ?? '/dev';
  const listNative = options.listNative ?? listWithSerialport;
  // Once the native list has failed (no udevadm) it is not retried: a rescan every few seconds would
  // otherwise try to spawn a missing program each time.
  let nativeWorks = true;
  return async () => {
    if (nativeWorks) {
      try {
        return (await listNative()).map(normalisePort);
      } catch (err) {
        nativeWorks = false;
        options.log.info({ err: (err as Error).message }, 'serial port listing failed, reading sysfs from now on');
      }
    }
    try {
      const fromSysfs = await scanSysfsTty(sysRoot, devRoot);
      if (fromSysfs.length > 0) return fromSysfs;
      return await scanSerialById(devRoot);
    } catch (err) {
      options.log.warn({ err: (err as Error).message }, 'cannot list serial ports');
      return [];
    }
  };
}

async function listWithSerialport(): Promise<ListedPort[]> {
  const { SerialPort } = await import('serialport');
  const ports = await SerialPort.list();
  return ports.map((p) => ({
    path: p.path,
    vendorId: p.vendorId,
    productId: p.productId,
    serialNumber: p.serialNumber,
    manufacturer: p.manufacturer,
  }));
}

function normalisePort(port: ListedPort): ListedPort {
  return {
    ...port,
    vendorId: port.vendorId ? normaliseId(port.vendorId) : undefined,
    productId: port.productId ? normaliseId(port.productId) : undefined,
  };
}

/**
 * Every tty with a device behind it (/sys/class/tty/<name>/device); for USB ones the idVendor/idProduct/serial
 * files sit on the USB device, one or two directories above the tty's interface.
 */
export async function scanSysfsTty(sysRoot: string, devRoot: string): Promise<ListedPort[]> {
  const classDir = join(sysRoot, 'class', 'tty');
  const names = await readdir(classDir).catch(() => [] as string[]);
  const ports: ListedPort[] = [];
  for (const name of names.sort()) {
    const device = await realpath(join(classDir, name, 'device')).catch(() => undefined);
    if (!device) continue; // virtual terminals and ptys have no device
    const usb = await findUsbDevice(device, sysRoot);
    ports.push({ path: join(devRoot, name), ...usb });
  }
  return ports;
}

async function findUsbDevice(start: string, sysRoot: string): Promise<Omit<ListedPort, 'path'>> {
  const stopAt = dirname(sysRoot);
  for (let dir = start, depth = 0; depth < 8 && dir !== stopAt && dir !== dirname(dir); dir = dirname(dir), depth++) {
    const vendorId = await readAttr(dir, 'idVendor');
    if (!vendorId) continue;
    return {
      vendorId: normaliseId(vendorId),
      productId: normaliseId((await readAttr(dir, 'idProduct')) ?? ''),
      serialNumber: await readAttr(dir, 'serial'),
      manufacturer: await readAttr(dir, 'manufacturer'),
    };
  }
  return {};
}

async function readAttr(dir: string, name: string): Promise<string | undefined> {
  const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
  const value = text?.trim();
  return value ? value : undefined;
}

/** Last resort: udev's by-id links name the chip, though not its ids. */
export async function scanSerialById(devRoot: string): Promise<ListedPort[]> {
  const byId = join(devRoot, 'serial', 'by-id');
  const names = await readdir(byId).catch(() => [] as string[]);
  const ports: ListedPort[] = [];
  for (const name of names.sort()) {
    const target = await realpath(join(byId, name)).catch(() => undefined);
    if (!target || !(await stat(target).catch(() => undefined))) continue;
    ports.push({ path: target, byIdName: name });
  }
  return ports;
}
