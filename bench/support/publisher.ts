/**
 * The device side of bench/ingest.ts, in its own process so it does not share a core with the hub:
 * an aedes broker on loopback plus publishers. Protocol on stdio (one JSON object per line):
 *   -> {"port": N}                                   once the broker listens
 *   <- {"run": {"messages": M, "devices": D, "samples": S}}
 *   -> {"published": M, "ms": T}                     when every publish got its PUBACK from the broker
 */
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { connectAsync } from 'mqtt';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';

const IN_FLIGHT_PER_DEVICE = 64;

const { Aedes } = await import('aedes');
const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
process.stdout.write(`${JSON.stringify({ port })}\n`);

let runs = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { run?: { messages: number; devices: number; samples: number }; quit?: true };
  if (command.quit) break;
  if (!command.run) continue;
  const { messages, devices, samples } = command.run;
  runs++;
  const started = performance.now();
  await Promise.all(Array.from({ length: devices }, async (_, d) => {
    const deviceId = `bench-${runs}-${d}`;
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: deviceId });
    const values = Array.from({ length: samples }, (_, i) => [0.1 * i, 0.2, 9.8, 0.01, 0.02, 0.03]);
    const t0 = Date.now();
    const inFlight = new Set<Promise<unknown>>();
    for (let m = d, k = 0; m < messages; m += devices, k++) {
      // Every message is new to the hub: consecutive seqs, device time moving on.
      const payload = encodeCompactBatch({ deviceId, t0: t0 + k * samples, dtMs: 1, seq: k * samples, samples: values });
      const publish = client.publishAsync(`gymhub/${deviceId}/imu`, payload, { qos: 1 });
      inFlight.add(publish);
      void publish.finally(() => inFlight.delete(publish));
      if (inFlight.size >= IN_FLIGHT_PER_DEVICE) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await client.endAsync();
  }));
  process.stdout.write(`${JSON.stringify({ published: messages, ms: performance.now() - started })}\n`);
}
server.close();
broker.close();
