import { writeToStream } from 'mqtt-packet';

/**
 * On its first write mqtt-packet builds a 2-byte Buffer for every number up to 65,535 (packet ids, lengths)
 * and keeps all of them for the life of the process: 65,536 Buffers, about 7 MB of heap (a heap snapshot of
 * the daemon under bench/soak), to save one tiny allocation per PUBACK. The hub writes a few hundred small
 * packets a second, so it turns the cache off, as mqtt.js's `writeCache: false` does. The switch is
 * mqtt-packet's own and process-wide (aedes, mqtt.js and the hub's client share one copy); turning it off
 * twice is harmless.
 */
export function disableMqttNumberCache(): void {
  writeToStream.cacheNumbers = false;
}
