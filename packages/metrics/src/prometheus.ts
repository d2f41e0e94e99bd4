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
  readonly elapsedSeconds: number;
  /** When the run finished, seconds since the epoch. */
  readonly finishedAt: number;
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly value: (run: SubvolumeRunMetrics) => number;
}

const METRICS: readonly Metric[] = [
  {
    name: 'btrfs_to_s3_last_run_success',
    help: '1 if the last backup of the subvolume succeeded, else 0.',
    type: 'gauge',
    value: (run) => (run.ok ? 1 : 0),
  },
  {
    name: 'btrfs_to_s3_last_run_timestamp_seconds',
    help: 'When the last backup of the subvolume finished.',
    type: 'gauge',
    value: (run) => run.finishedAt,
  },
  {
    name: 'btrfs_to_s3_last_run_bytes',
    help: 'Bytes of btrfs send stream uploaded by the last backup.',
    type: 'gauge',
    value: (run) => run.bytes,
  },
  { name: 'btrfs_to_s3_last_run_chunks', help: 'Chunk objects written by the last backup.', type: 'gauge', value: (run) => run.chunks },
  { name: 'btrfs_to_s3_last_run_parts', help: 'Multipart parts uploaded by the last backup.', type: 'gauge', value: (run) => run.parts },
  { name: 'btrfs_to_s3_last_run_retries', help: 'Retried S3 requests in the last backup.', type: 'gauge', value: (run) => run.retries },
  {
    name: 'btrfs_to_s3_last_run_duration_seconds',
    help: 'Wall time of the last backup.',
    type: 'gauge',
    value: (run) => run.elapsedSeconds,
  },
  {
    name: 'btrfs_to_s3_last_run_throughput_bytes_per_second',
    help: 'Average upload rate of the last backup.',
    type: 'gauge',
    value: (run) => throughput(run.bytes, run.elapsedSeconds),
  },
];

/** A label value escaped for the text exposition format. */
export function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** When each subvolume's last published backup was taken: the basis of a "no backup in N days" alert. */
export interface LastSuccess {
  readonly subvolume: string;
  readonly timestamp: number;
}

/** The Prometheus text exposition format, for node_exporter's textfile collector. */
export function renderPrometheusTextfile(runs: readonly SubvolumeRunMetrics[], lastSuccess: readonly LastSuccess[] = []): string {
  const lines: string[] = [
    '# HELP btrfs_to_s3_last_success_timestamp_seconds When the last published backup of the subvolume was taken.',
    '# TYPE btrfs_to_s3_last_success_timestamp_seconds gauge',
    ...lastSuccess.map((entry) => `btrfs_to_s3_last_success_timestamp_seconds{subvolume="${label(entry.subvolume)}"} ${entry.timestamp}`),
  ];
  for (const metric of METRICS) {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`);
    for (const run of runs) {
      lines.push(`${metric.name}{subvolume="${label(run.subvolume)}",kind="${run.kind}"} ${metric.value(run)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
