import { label } from './prometheus';

/** The last drill of one subvolume in one mode: what the drill record keeps and the textfile shows. */
export interface DrillOutcome {
  readonly subvolume: string;
  /** `full`: the chain restored into scratch and verified; `sample`: sampled archived chunks thawed and re-hashed. */
  readonly mode: 'full' | 'sample';
  readonly ok: boolean;
  /** When the last drill in this mode finished, seconds since the epoch. */
  readonly lastAttempt: number;
  /** When the last passing drill in this mode finished; null until one passed. A failed drill keeps it. */
  readonly lastSuccess: number | null;
}

const series = (outcome: DrillOutcome) => `{subvolume="${label(outcome.subvolume)}",mode="${outcome.mode}"}`;

/**
 * The drill's own Prometheus textfile: written beside the backup's, so neither
 * rewrites the other's gauges (node_exporter reads every *.prom file in its directory).
 */
export function renderDrillTextfile(outcomes: readonly DrillOutcome[]): string {
  const passed = outcomes.filter((outcome) => outcome.lastSuccess !== null);
  return `${[
    '# HELP btrfs_to_s3_last_drill_success_timestamp_seconds When the last passing drill of the subvolume finished, by mode (full restore, or sampled chunks).',
    '# TYPE btrfs_to_s3_last_drill_success_timestamp_seconds gauge',
    ...passed.map((outcome) => `btrfs_to_s3_last_drill_success_timestamp_seconds${series(outcome)} ${outcome.lastSuccess}`),
    '# HELP btrfs_to_s3_last_drill_attempt_timestamp_seconds When the last drill of the subvolume finished, passed or not, by mode.',
    '# TYPE btrfs_to_s3_last_drill_attempt_timestamp_seconds gauge',
    ...outcomes.map((outcome) => `btrfs_to_s3_last_drill_attempt_timestamp_seconds${series(outcome)} ${outcome.lastAttempt}`),
    '# HELP btrfs_to_s3_last_drill_success 1 if the last drill of the subvolume passed, else 0, by mode.',
    '# TYPE btrfs_to_s3_last_drill_success gauge',
    ...outcomes.map((outcome) => `btrfs_to_s3_last_drill_success${series(outcome)} ${outcome.ok ? 1 : 0}`),
  ].join('\n')}\n`;
}
