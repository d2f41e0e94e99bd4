/** Run metrics for btrfs-to-s3: human formatting and the Prometheus textfiles of every command. */
export { formatBytes, formatRate, throughput } from './format';
export { renderPrometheusTextfile } from './prometheus';
export type { BackupRunStatus, BackupTextfile, SubvolumeRunMetrics, LastSuccess } from './prometheus';
export { renderCheckTextfile } from './checks';
export type { CheckCommand, CheckOutcome } from './checks';
export { renderDrillTextfile } from './drill';
export type { DrillOutcome } from './drill';
export { monthlyCost, renderInventoryTextfile } from './inventory';
export type { StoredObjects, StoragePrices } from './inventory';
export { METRIC_NAMES } from './names';
export type { MetricsFile } from './names';
