/**
 * The devices of bench/api.ts, in their own process: POST /api/v1/readings at a steady rate, format (b)
 * batches round-robin over the devices, each batch's last sample stamped with the wall clock when it is
 * sent (so a client can tell how old a reading is when it arrives). Protocol on stdio (one JSON per line):
 *   <- {"run": {"port": N, "token": T, "rate": R, "devices": D, "batch": B}}
 *   <- {"stop": true}  -> {"sentReadings": N, "accepted": N, "refused": N, "failed": N, "behind": N, "ms": T}
 * It exits when its stdin ends.
 * "behind" counts the ticks at which too many requests were in flight to keep the rate.
 */
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { encodeCompactBatch } from '../../drivers/codec/encode.js';

const TICK_MS = 5;
const MAX_IN_FLIGHT = 32;

interface Run {
  port: number;
  token: string;
  rate: number;
  devices: number;
  batch: number;
}

function start({ port, token, rate, devices, batch }: Run) {
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const dtMs = (devices * 1000) / rate;
  const seqs = new Array<number>(devices).fill(0);
  const samples = Array.from({ length: batch }, (_, i) => [0.1 * (i % 10), 0.2, 9.8, 0.01, 0.02, 0.03]);
  const totals = { sentReadings: 0, accepted: 0, refused: 0, failed: 0, behind: 0 };
  let inFlight = 0;
  let next = 0;
  const started = performance.now();

  const post = (body: string) => {
    inFlight++;
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/readings', method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => {
        inFlight--;
        if (res.statusCode === 202) totals.accepted++;
        else totals.refused++;
      });
    });
    req.on('error', () => {
      inFlight--;
      totals.failed++;
    });
    req.end(body);
  };

  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (totals.sentReadings + batch <= due) {
      if (inFlight >= MAX_IN_FLIGHT) {
        totals.behind++;
        break;
      }
      const d = next++ % devices;
      const now = Date.now();
      post(encodeCompactBatch({ deviceId: `load-${d}`, t0: now - (batch - 1) * dtMs, dtMs, seq: seqs[d], samples }));
      seqs[d] += batch;
      totals.sentReadings += batch;
    }
  }, TICK_MS);

  return () => {
    clearInterval(timer);
    agent.destroy();
    return { ...totals, ms: Math.round(performance.now() - started) };
  };
}

let stop: (() => Record<string, number>) | undefined;
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { run?: Run; stop?: true };
  if (command.run) stop = start(command.run);
  if (command.stop) process.stdout.write(`${JSON.stringify(stop?.() ?? {})}\n`);
}
