import { gauge, textfile } from './exposition';

/** The commands whose last outcome is kept as success and attempt times: each writes a textfile of its own. */
export type CheckCommand = 'drill' | 'verify' | 'prune';

/** One command's last outcome for one set of labels (e.g. a subvolume and mode). */
export interface CheckOutcome {
  readonly labels: Readonly<Record<string, string>>;
  readonly ok: boolean;
  /** When the last attempt finished, seconds since the epoch. */
  readonly lastAttempt: number;
  /** When the last successful one finished; null until one succeeded. A failure keeps it. */
  readonly lastSuccess: number | null;
}

/**
 * `btrfs_to_s3_last_<command>_success_timestamp_seconds` (absent until one succeeded),
 * `..._attempt_timestamp_seconds` and `btrfs_to_s3_last_<command>_success` (1 or 0).
 */
export function renderCheckTextfile(command: CheckCommand, outcomes: readonly CheckOutcome[]): string {
  return textfile([
    ...gauge(
      `btrfs_to_s3_last_${command}_success_timestamp_seconds`,
      `When the last successful ${command} finished.`,
      outcomes.flatMap((outcome) => (outcome.lastSuccess === null ? [] : [[outcome.labels, outcome.lastSuccess] as const])),
    ),
    ...gauge(
      `btrfs_to_s3_last_${command}_attempt_timestamp_seconds`,
      `When the last ${command} finished, successful or not.`,
      outcomes.map((outcome) => [outcome.labels, outcome.lastAttempt]),
    ),
    ...gauge(
      `btrfs_to_s3_last_${command}_success`,
      `1 if the last ${command} succeeded, else 0.`,
      outcomes.map((outcome) => [outcome.labels, outcome.ok ? 1 : 0]),
    ),
  ]);
}
