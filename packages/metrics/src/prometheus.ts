import { gauge, type Sample, textfile } from './exposition';
import { throughput } from './format';

/** What one subvolume's backup moved; the numbers behind the summary, JSON and textfile. */
export interface SubvolumeRunMetrics {
  readonly subvolume: string;
  /** What ran: a full, an incremental, or nothing (a subvolume that could not even start). */
  readonly kind: 'full' | 'inc' | 'none';
  readonly ok: boolean;
  readonly bytes: number;
  readonly chunks: number;
  readonly parts: number;
  readonly retries: number;
  /** Bytes of the stream an interrupted run had stored, which this run proved and did not send again. */
  readonly resumedBytes: number;
  readonly elapsedSeconds: number;
  /** When the run finished, seconds since the epoch. */
  readonly finishedAt: number;
}

/** When each subvolume's last published backup was taken: the basis of a "no backup in N days" alert. */
export interface LastSuccess {
  readonly subvolume: string;
  readonly timestamp: number;
}

/** The backup runs of this host as a whole: the series an alert on a dead or stuck timer needs. */
export interface BackupRunStatus {
  /** A run holds the lock now. */
  readonly inProgress: boolean;
  /** When the last run started, seconds since the epoch; null before the first. */
  readonly lastAttempt: number | null;
  /** The exit code of the last run that ended; null before the first. */
  readonly lastExitCode: number | null;
}

/** Everything the backup's textfile shows. */
export interface BackupTextfile {
  readonly run: BackupRunStatus;
  /** Each subvolume's last backup that ran (published or failed), kept across runs where it was not due. */
  readonly subvolumes: readonly SubvolumeRunMetrics[];
  readonly lastSuccess: readonly LastSuccess[];
}

interface PerRun {
  readonly name: string;
  readonly help: string;
  readonly value: (run: SubvolumeRunMetrics) => number;
}

const PER_RUN: readonly PerRun[] = [
  {
    name: 'btrfs_to_s3_last_run_success',
    help: '1 if the last backup of the subvolume succeeded, else 0.',
    value: (run) => (run.ok ? 1 : 0),
  },
  {
    name: 'btrfs_to_s3_last_run_timestamp_seconds',
    help: 'When the last backup of the subvolume finished.',
    value: (run) => run.finishedAt,
  },
  {
    name: 'btrfs_to_s3_last_run_bytes',
    help: 'Bytes of btrfs send stream stored by the last backup (resumed bytes included).',
    value: (run) => run.bytes,
  },
  {
    name: 'btrfs_to_s3_last_run_resumed_bytes',
    help: 'Bytes of the last backup that an interrupted run had uploaded: proven by their hash, not sent again.',
    value: (run) => run.resumedBytes,
  },
  { name: 'btrfs_to_s3_last_run_chunks', help: 'Chunk objects written by the last backup.', value: (run) => run.chunks },
  { name: 'btrfs_to_s3_last_run_parts', help: 'Multipart parts uploaded by the last backup.', value: (run) => run.parts },
  { name: 'btrfs_to_s3_last_run_retries', help: 'Retried S3 requests in the last backup.', value: (run) => run.retries },
  { name: 'btrfs_to_s3_last_run_duration_seconds', help: 'Wall time of the last backup.', value: (run) => run.elapsedSeconds },
  {
    name: 'btrfs_to_s3_last_run_throughput_bytes_per_second',
    help: 'Average upload rate of the last backup.',
    value: (run) => throughput(run.bytes, run.elapsedSeconds),
  },
];

const present = (value: number | null): Sample[] => (value === null ? [] : [[{}, value]]);

/** The backup's textfile in the Prometheus text exposition format, for node_exporter's textfile collector. */
export function renderPrometheusTextfile({ run, subvolumes, lastSuccess }: BackupTextfile): string {
  return textfile([
    ...gauge('btrfs_to_s3_run_in_progress', '1 while a backup run holds the lock, else 0.', [[{}, run.inProgress ? 1 : 0]]),
    ...gauge('btrfs_to_s3_last_attempt_timestamp_seconds', 'When the last backup run started.', present(run.lastAttempt)),
    ...gauge(
      'btrfs_to_s3_last_exit_code',
      'Exit code of the last backup run that ended (137: it died without recording its end).',
      present(run.lastExitCode),
    ),
    ...gauge(
      'btrfs_to_s3_last_success_timestamp_seconds',
      'When the last published backup of the subvolume was taken.',
      lastSuccess.map((entry) => [{ subvolume: entry.subvolume }, entry.timestamp]),
    ),
    ...PER_RUN.flatMap((metric) =>
      gauge(
        metric.name,
        metric.help,
        subvolumes.map((entry) => [{ subvolume: entry.subvolume, kind: entry.kind }, metric.value(entry)]),
      ),
    ),
  ]);
}
