/**
 * Every metric a btrfs-to-s3 textfile can carry, by the file that carries it. The
 * shipped alert rules and dashboard (docs/prometheus, docs/grafana) are checked against
 * this list, and each renderer's test checks its output against its entry.
 */
export const METRIC_NAMES = {
  /** `global.prometheus_textfile`: written by `backup` at its start and on every way it ends. */
  backup: [
    'btrfs_to_s3_run_in_progress',
    'btrfs_to_s3_last_attempt_timestamp_seconds',
    'btrfs_to_s3_last_exit_code',
    'btrfs_to_s3_last_success_timestamp_seconds',
    'btrfs_to_s3_last_run_success',
    'btrfs_to_s3_last_run_timestamp_seconds',
    'btrfs_to_s3_last_run_bytes',
    'btrfs_to_s3_last_run_resumed_bytes',
    'btrfs_to_s3_last_run_chunks',
    'btrfs_to_s3_last_run_parts',
    'btrfs_to_s3_last_run_retries',
    'btrfs_to_s3_last_run_duration_seconds',
    'btrfs_to_s3_last_run_throughput_bytes_per_second',
  ],
  /** `*-drill.prom`: written by `drill`. */
  drill: [
    'btrfs_to_s3_last_drill_success_timestamp_seconds',
    'btrfs_to_s3_last_drill_attempt_timestamp_seconds',
    'btrfs_to_s3_last_drill_success',
  ],
  /** `*-verify.prom`: written by `verify`. */
  verify: [
    'btrfs_to_s3_last_verify_success_timestamp_seconds',
    'btrfs_to_s3_last_verify_attempt_timestamp_seconds',
    'btrfs_to_s3_last_verify_success',
  ],
  /** `*-prune.prom`: written by `prune` (and a backup's prune after it). */
  prune: [
    'btrfs_to_s3_last_prune_success_timestamp_seconds',
    'btrfs_to_s3_last_prune_attempt_timestamp_seconds',
    'btrfs_to_s3_last_prune_success',
  ],
  /** `*-inventory.prom`: what the bucket holds, written by `verify` and `prune` after they list it. */
  inventory: [
    'btrfs_to_s3_inventory_timestamp_seconds',
    'btrfs_to_s3_stored_bytes',
    'btrfs_to_s3_stored_objects',
    'btrfs_to_s3_estimated_monthly_cost',
  ],
} as const;

export type MetricsFile = keyof typeof METRIC_NAMES;
