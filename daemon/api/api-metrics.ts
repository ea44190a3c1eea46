import type { MetricFamily } from '../metrics.js';

/** The API's own figures for /metrics: requests refused by each rate limit. */
export function apiMetricFamilies(limits: Record<'ingest' | 'predict' | 'failedAuth', { refused: number }>): MetricFamily[] {
  return [{
    name: 'gymhub_api_rate_limited_total',
    help: 'Requests answered 429, per limit (ingest: http.ingestReadingsPerS, predict: http.predictReadingsPerS, failed_auth: http.failedAuthPerMinute).',
    type: 'counter',
    samples: [
      { labels: { limit: 'ingest' }, value: limits.ingest.refused },
      { labels: { limit: 'predict' }, value: limits.predict.refused },
      { labels: { limit: 'failed_auth' }, value: limits.failedAuth.refused },
    ],
  }];
}
