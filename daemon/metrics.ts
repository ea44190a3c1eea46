import { monitorEventLoopDelay } from 'node:perf_hooks';

/** One Prometheus sample: labels are rendered in the order given. */
export interface MetricSample {
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: MetricSample[];
}

/** Renders metric families in the Prometheus text exposition format (version 0.0.4). */
export function renderPrometheus(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = sample.labels && Object.keys(sample.labels).length > 0
        ? `{${Object.entries(sample.labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`
        : '';
      lines.push(`${family.name}${labels} ${Number.isFinite(sample.value) ? sample.value : 'NaN'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The event loop's delay (p99 and max over the last interval), which tells a stalled or overloaded hub. */
export class EventLoopLag {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });

  start(): void {
    this.histogram.enable();
  }

  stop(): void {
    this.histogram.disable();
  }

  /** Seconds; resets the histogram so that each scrape sees the time since the previous one. */
  sample(): { p99S: number; maxS: number } {
    const result = { p99S: this.histogram.percentile(99) / 1e9, maxS: this.histogram.max / 1e9 };
    this.histogram.reset();
    return result;
  }
}
