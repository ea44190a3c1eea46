/**
 * The hub of bench/api.ts in its own process, so that the bench's clients do not share its event loop: the
 * same in-process hub the tests and the other benches use (store, codec, pipeline, live recognition, API), on
 * loopback, every transport but HTTP off. Protocol on stdio (one JSON object per line):
 *   -> {"port": N}                       once listening
 *   <- {"cpu": true}  -> {"cpuMs": T}     CPU time (user + system) this process used so far
 *   <- {"quit": true}                     closes the hub and exits
 */
import { createInterface } from 'node:readline';
import { startTestHub } from '../../test/helpers/hub.js';

const hub = await startTestHub({ http: { host: '127.0.0.1', port: 0 } });
process.stdout.write(`${JSON.stringify({ port: hub.hub.address.port })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { cpu?: true; quit?: true };
  if (command.quit) break;
  if (command.cpu) {
    const { user, system } = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMs: Math.round((user + system) / 1000) })}\n`);
  }
}
await hub.close();
