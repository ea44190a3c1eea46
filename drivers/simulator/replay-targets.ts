import type { Logger } from 'pino';

export type ReplayTarget =
  | { kind: 'mqtt'; url: string; prefix?: string }
  | { kind: 'serial'; path: string; baudRate?: number }
  | { kind: 'http'; url: string; token: string };

export interface ReplaySink {
  sendLine(line: string): Promise<void>;
  sendBatch(json: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens the transport the way a device would: MQTT with a retained status and last will, a serial hello line, HTTP with the token. */
export async function sinkForTarget(target: ReplayTarget, deviceId: string, hz: number, log: Logger): Promise<ReplaySink> {
  switch (target.kind) {
    case 'mqtt': return mqttSink(target.url, target.prefix ?? 'gymhub', deviceId, hz);
    case 'serial': return serialSink(target.path, target.baudRate ?? 115200, deviceId, hz);
    case 'http': return httpSink(target.url, target.token, log);
  }
}

async function mqttSink(url: string, prefix: string, deviceId: string, hz: number): Promise<ReplaySink> {
  const { connectAsync } = await import('mqtt');
  const statusTopic = `${prefix}/${deviceId}/status`;
  const client = await connectAsync(url, {
    clientId: `gymhub-replay-${deviceId}`.slice(0, 64),
    reconnectPeriod: 1000,
    will: { topic: statusTopic, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
  });
  await client.publishAsync(statusTopic, JSON.stringify({ online: true, fw: 'gymhub-replay', hz }), { qos: 1, retain: true });
  const topic = `${prefix}/${deviceId}/imu`;
  const inFlight = new Set<Promise<unknown>>();
  return {
    sendLine: () => Promise.reject(new Error('format (c) lines go over serial only')),
    async sendBatch(json) {
      // QoS 1 like the firmware: keep a window of unacknowledged messages rather than one round trip each.
      const publish = client.publishAsync(topic, json, { qos: 1 });
      inFlight.add(publish);
      void publish.finally(() => inFlight.delete(publish)).catch(() => undefined);
      if (inFlight.size >= 100) await Promise.race(inFlight);
    },
    async close() {
      await Promise.all(inFlight);
      await client.publishAsync(statusTopic, JSON.stringify({ online: false }), { qos: 1, retain: true });
      await client.endAsync();
    },
  };
}

async function serialSink(path: string, baudRate: number, deviceId: string, hz: number): Promise<ReplaySink> {
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const write = (line: string) => new Promise<void>((resolve, reject) => {
    port.write(`${line}\n`, (err) => (err ? reject(err) : undefined));
    port.drain((err) => (err ? reject(err) : resolve()));
  });
  await write(JSON.stringify({ hello: { deviceId, fw: 'gymhub-replay', hz } }));
  return {
    sendLine: write,
    sendBatch: write,
    close: () => new Promise<void>((resolve) => port.close(() => resolve())),
  };
}

function httpSink(url: string, token: string, log: Logger): ReplaySink {
  const endpoint = new URL('/api/v1/readings', url).toString();
  return {
    sendLine: () => Promise.reject(new Error('format (c) lines go over serial only')),
    async sendBatch(json) {
      for (let attempt = 0; ; attempt++) {
        const response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: json,
        });
        if (response.status === 202) return;
        const body = await response.text();
        // A full store (507) or a busy hub may recover; a 4xx will not.
        if (response.status < 500 || attempt >= 5) throw new Error(`POST ${endpoint}: ${response.status} ${body}`);
        log.warn({ status: response.status, attempt }, 'hub did not accept the batch; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    },
    close: async () => undefined,
  };
}
