/** Run metrics for btrfs-to-s3: human formatting and the Prometheus textfile. */
export { formatBytes, formatRate, throughput } from './format';
export { renderPrometheusTextfile } from './prometheus';
export type { SubvolumeRunMetrics, LastSuccess } from './prometheus';
