import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Service } from 'bonjour-service';
import pino from 'pino';
import { MDNS_SERVICE_TYPE, startMdns } from '../../daemon/mdns.js';

/** A UDP port nobody uses, so the test's mDNS traffic never meets a real responder on 5353. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

type LogLine = Record<string, unknown>;

/** A pino logger whose lines the test can await. */
function capturingLogger() {
  const lines: LogLine[] = [];
  const waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) {
        if (!text) continue;
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        for (const waiter of waiters.filter((w) => w.match(line))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      done();
    },
  });
  const waitFor = (match: (line: LogLine) => boolean) =>
    new Promise<LogLine>((resolve) => {
      const seen = lines.find(match);
      if (seen) resolve(seen);
      else waiters.push({ match, resolve });
    });
  return { log: pino({ level: 'debug' }, stream), lines, waitFor };
}

describe('mDNS advertisement', () => {
  it('advertises _gymhub._tcp with the API port and the hubId in TXT, and says goodbye on stop (loopback only)', { timeout: 10_000 }, async () => {
    const multicast = { interface: '127.0.0.1', bind: '0.0.0.0', port: await freeUdpPort() };
    const { log } = capturingLogger();
    const hubId = '01JTESTHUB000000000000ABCD';
    const advertiser = await startMdns({ port: 18080, hubId, log, multicast });
    const { Bonjour } = await import('bonjour-service');
    const browserSide = new Bonjour(multicast, () => undefined);
    try {
      const browser = browserSide.find({ type: MDNS_SERVICE_TYPE });
      const found = await new Promise<Service>((resolve) => browser.once('up', resolve));
      assert.equal(found.type, MDNS_SERVICE_TYPE);
      assert.equal(found.port, 18080);
      assert.equal(found.txt.hubId, hubId);
      assert.equal(found.name, 'gymhub-00abcd');
      const gone = new Promise<Service>((resolve) => browser.once('down', resolve));
      await advertiser.stop();
      assert.equal((await gone).name, 'gymhub-00abcd');
      browser.stop();
    } finally {
      await advertiser.stop();
      await new Promise<void>((resolve) => browserSide.destroy(() => resolve()));
    }
  });

  it('on a host where the multicast socket cannot open, warns and carries on instead of crashing', { timeout: 10_000 }, async () => {
    const { log, waitFor } = capturingLogger();
    // 203.0.113.1 (TEST-NET-3) is on no interface here: binding to it fails as on a host without multicast.
    const advertiser = await startMdns({ port: 18080, hubId: '01JTESTHUB000000000000WXYZ', log, multicast: { interface: '203.0.113.1', port: await freeUdpPort() } });
    const warning = await waitFor((l) => l.level === 40);
    assert.match(String(warning.msg), /mDNS: cannot open the multicast socket; the hub is not advertised/);
    assert.match(JSON.stringify(warning.err), /EADDRNOTAVAIL|EINVAL/);
    await advertiser.stop();
  });
});
