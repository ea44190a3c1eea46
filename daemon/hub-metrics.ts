import type { Codec } from '../drivers/codec/codec.js';
import type { DeviceRegistry } from './device-registry.js';
import { renderPrometheus, type EventLoopLag, type MetricFamily } from './metrics.js';
import type { IngestPipeline } from './pipeline.js';
import type { ReadingStore } from './store/reading-store.js';

export interface HubMetricSources {
  codec: Codec;
  pipeline: IngestPipeline;
  store: ReadingStore;
  registry: DeviceRegistry;
  lag: EventLoopLag;
  /** Families other parts add (recognition, sync). */
  extra?: () => MetricFamily[];
}

/** The figures SPEC section 8 lists for /metrics, gathered from the parts that own them. */
export function hubMetrics({ codec, pipeline, store, registry, lag, extra }: HubMetricSources): string {
  const totals = codec.transportTotals();
  const transports = Object.keys(totals) as Array<keyof typeof totals>;
  const perTransport = (pick: (t: keyof typeof totals) => number) => transports.map((t) => ({ labels: { transport: t }, value: pick(t) }));
  const stats = store.stats();
  const { p99S, maxS } = lag.sample();
  const families: MetricFamily[] = [
    { name: 'gymhub_readings_decoded_total', help: 'Valid samples decoded, per transport.', type: 'counter', samples: perTransport((t) => totals[t].accepted) },
    { name: 'gymhub_readings_stored_total', help: 'Readings durably stored, per transport.', type: 'counter', samples: perTransport((t) => pipeline.stored[t]) },
    { name: 'gymhub_readings_rejected_total', help: 'Samples rejected as invalid, per transport.', type: 'counter', samples: perTransport((t) => totals[t].rejected) },
    { name: 'gymhub_readings_duplicate_total', help: 'Samples dropped as duplicates, per transport.', type: 'counter', samples: perTransport((t) => totals[t].duplicates) },
    { name: 'gymhub_readings_dropped_total', help: 'Samples the devices\' counters say were lost on the way, per transport.', type: 'counter', samples: perTransport((t) => totals[t].gaps) },
    { name: 'gymhub_store_bytes', help: 'Bytes of readings, blocks and journal in the store.', type: 'gauge', samples: [{ value: stats.bytes }] },
    { name: 'gymhub_store_readings', help: 'Readings in the store.', type: 'gauge', samples: [{ value: stats.readings }] },
    { name: 'gymhub_store_backlog_readings', help: 'Readings appended but not yet written.', type: 'gauge', samples: [{ value: stats.pendingReadings }] },
    { name: 'gymhub_store_full', help: '1 when storage.hardMaxBytes is reached and ingestion is refused.', type: 'gauge', samples: [{ value: stats.overHardLimit ? 1 : 0 }] },
    { name: 'gymhub_devices', help: 'Devices heard from since start.', type: 'gauge', samples: [{ value: registry.list().length }] },
    { name: 'gymhub_event_loop_lag_p99_seconds', help: 'Event-loop delay, 99th percentile since the previous scrape.', type: 'gauge', samples: [{ value: p99S }] },
    { name: 'gymhub_event_loop_lag_max_seconds', help: 'Event-loop delay, maximum since the previous scrape.', type: 'gauge', samples: [{ value: maxS }] },
    { name: 'gymhub_resident_memory_bytes', help: 'Resident set size of the hub process.', type: 'gauge', samples: [{ value: process.memoryUsage.rss() }] },
    ...(extra?.() ?? []),
  ];
  return renderPrometheus(families);
}
