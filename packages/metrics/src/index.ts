/** Run metrics for btrfs-to-s3: human formatting and the Prometheus textfiles of backups and drills. */
export { formatBytes, formatRate, throughput } from './format';
export { renderPrometheusTextfile } from './prometheus';
export type { SubvolumeRunMetrics, LastSuccess } from './prometheus';
export { renderDrillTextfile } from './drill';
export type { DrillOutcome } from './drill';
export { METRIC_NAMES } from './names';
export type { MetricsFile } from './names';
