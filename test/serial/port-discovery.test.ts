import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createPortLister, isEsp32Port, scanSysfsTty } from '../../drivers/serial/port-discovery.js';

const log = pino({ level: 'silent' });

/** A sysfs tree shaped like the kernel's: class/tty/<name>/device -> the interface under the USB device. */
function fakeSys(): { root: string; sys: string; dev: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'gymhub-sys-'));
  const sys = join(root, 'sys');
  const dev = join(root, 'dev');
  mkdirSync(join(sys, 'class', 'tty'), { recursive: true });
  mkdirSync(dev);
  return { root, sys, dev, remove: () => rmSync(root, { recursive: true, force: true }) };
}

function addUsbTty(sys: string, name: string, usb: { vid: string; pid: string; serial?: string; manufacturer?: string }, acm = false): void {
  const usbDevice = join(sys, 'devices', 'pci0000:00', '0000:00:14.0', 'usb1', `1-${name}`);
  const iface = join(usbDevice, `1-${name}:1.0`);
  // ttyUSB (CP210x, CH340, FTDI) has its own directory under the interface; ttyACM (native USB) points at it.
  const target = acm ? iface : join(iface, name);
  mkdirSync(target, { recursive: true });
  writeFileSync(join(usbDevice, 'idVendor'), `${usb.vid}\n`);
  writeFileSync(join(usbDevice, 'idProduct'), `${usb.pid}\n`);
  if (usb.serial) writeFileSync(join(usbDevice, 'serial'), `${usb.serial}\n`);
  if (usb.manufacturer) writeFileSync(join(usbDevice, 'manufacturer'), `${usb.manufacturer}\n`);
  mkdirSync(join(sys, 'class', 'tty', name));
  symlinkSync(target, join(sys, 'class', 'tty', name, 'device'));
}

test('the vid:pid filter accepts the five ESP32 bridges and nothing else', () => {
  for (const [vid, pid] of [['10c4', 'ea60'], ['1a86', '7523'], ['1a86', '55d4'], ['303a', '1001'], ['0403', '6001']]) {
    assert.ok(isEsp32Port({ path: '/dev/x', vendorId: vid, productId: pid }), `${vid}:${pid}`);
  }
  assert.ok(isEsp32Port({ path: '/dev/x', vendorId: '0x10C4', productId: 'EA60' }), 'case and 0x prefix do not matter');
  assert.ok(!isEsp32Port({ path: '/dev/x', vendorId: '2341', productId: '0043' }), 'an Arduino Uno is not an ESP32');
  assert.ok(!isEsp32Port({ path: '/dev/x', vendorId: '10c4', productId: 'ea70' }), 'the vendor alone is not enough');
  assert.ok(!isEsp32Port({ path: '/dev/ttyS0' }), 'a port without ids is not picked');
  assert.ok(isEsp32Port({ path: '/dev/ttyUSB0', byIdName: 'usb-Silicon_Labs_CP2102N_USB_to_UART_Bridge_Controller_0001-if00-port0' }));
  assert.ok(!isEsp32Port({ path: '/dev/ttyUSB1', byIdName: 'usb-Prolific_Technology_Inc._USB-Serial_Controller-if00-port0' }));
});

test('reads USB ids and serial numbers from sysfs for ttyUSB and ttyACM ports', async (t) => {
  const fake = fakeSys();
  t.after(fake.remove);
  addUsbTty(fake.sys, 'ttyUSB0', { vid: '10c4', pid: 'ea60', serial: '0001', manufacturer: 'Silicon Labs' });
  addUsbTty(fake.sys, 'ttyACM0', { vid: '303a', pid: '1001', serial: 'F4:12:FA:00:11:22' }, true);
  mkdirSync(join(fake.sys, 'class', 'tty', 'tty1')); // a virtual terminal: no device link
  mkdirSync(join(fake.sys, 'devices', 'platform', 'serial8250', 'tty', 'ttyS0'), { recursive: true });
  mkdirSync(join(fake.sys, 'class', 'tty', 'ttyS0'));
  symlinkSync(join(fake.sys, 'devices', 'platform', 'serial8250', 'tty', 'ttyS0'), join(fake.sys, 'class', 'tty', 'ttyS0', 'device'));

  const ports = await scanSysfsTty(fake.sys, fake.dev);
  assert.deepEqual(ports, [
    { path: join(fake.dev, 'ttyACM0'), vendorId: '303a', productId: '1001', serialNumber: 'F4:12:FA:00:11:22', manufacturer: undefined },
    { path: join(fake.dev, 'ttyS0') },
    { path: join(fake.dev, 'ttyUSB0'), vendorId: '10c4', productId: 'ea60', serialNumber: '0001', manufacturer: 'Silicon Labs' },
  ]);
  assert.deepEqual(ports.filter(isEsp32Port).map((p) => p.path), [join(fake.dev, 'ttyACM0'), join(fake.dev, 'ttyUSB0')]);
});

test('when serialport.list() fails the lister falls back to sysfs and never throws', async (t) => {
  const fake = fakeSys();
  t.after(fake.remove);
  addUsbTty(fake.sys, 'ttyUSB3', { vid: '1a86', pid: '7523' });
  let calls = 0;
  const lister = createPortLister({
    log,
    sysRoot: fake.sys,
    devRoot: fake.dev,
    listNative: async () => {
      calls++;
      throw new Error('spawn udevadm ENOENT');
    },
  });
  const first = await lister();
  const second = await lister();
  assert.equal(calls, 1, 'a failed native list is not retried on every rescan');
  assert.deepEqual(first.map((p) => [p.path, p.vendorId, p.productId]), [[join(fake.dev, 'ttyUSB3'), '1a86', '7523']]);
  assert.deepEqual(second, first);
});

test('without sysfs the lister reads /dev/serial/by-id', async (t) => {
  const fake = fakeSys();
  t.after(fake.remove);
  mkdirSync(join(fake.dev, 'serial', 'by-id'), { recursive: true });
  writeFileSync(join(fake.dev, 'ttyUSB0'), '');
  symlinkSync('../../ttyUSB0', join(fake.dev, 'serial', 'by-id', 'usb-1a86_USB_Serial-if00-port0'));
  symlinkSync('../../ttyUSB9', join(fake.dev, 'serial', 'by-id', 'usb-dangling-if00-port0'));
  const lister = createPortLister({ log, sysRoot: join(fake.root, 'no-sys'), devRoot: fake.dev, listNative: () => Promise.reject(new Error('no udevadm')) });
  const ports = await lister();
  assert.deepEqual(ports, [{ path: join(fake.dev, 'ttyUSB0'), byIdName: 'usb-1a86_USB_Serial-if00-port0' }]);
  assert.ok(isEsp32Port(ports[0]));
});

test('a host with nothing to list gives an empty list, not an error', async (t) => {
  const fake = fakeSys();
  t.after(fake.remove);
  const lister = createPortLister({ log, sysRoot: join(fake.root, 'nope'), devRoot: join(fake.root, 'nope'), listNative: () => Promise.reject(new Error('x')) });
  assert.deepEqual(await lister(), []);
});

test('the real default lister does not throw on this machine', async () => {
  const ports = await createPortLister({ log })();
  assert.ok(Array.isArray(ports));
  for (const port of ports) assert.equal(typeof port.path, 'string');
});

test('native list results are normalised (upper-case ids, 0x prefixes)', async () => {
  const lister = createPortLister({ log, listNative: async () => [{ path: '/dev/ttyUSB0', vendorId: '10C4', productId: '0xEA60' }] });
  const [port] = await lister();
  assert.equal(port.vendorId, '10c4');
  assert.equal(port.productId, 'ea60');
});
