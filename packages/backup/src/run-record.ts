import { type Logger, lockHolder, readMetricsRecord, readState, type RemoteConfig, writeFileAtomic } from '@org/btrfs-s3-core';
import { renderPrometheusTextfile, type SubvolumeRunMetrics } from '@org/btrfs-s3-metrics';
import * as v from 'valibot';
import { type BackupResult, RunMetricsSchema } from './schemas';

/**
 * The exit code recorded for a run that died without recording its end (SIGKILL, an
 * OOM kill, a power cut), by the next run's start: what a shell reports for a process
 * SIGKILL ended. No run of the tool exits with it itself.
 */
export const UNFINISHED_RUN_EXIT_CODE = 137;

const isoTime = v.pipe(v.string(), v.isoTimestamp());
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/**
 * The backup's metrics record at `global.metrics_path` (docs/metrics.md): the last
 * finished run's outcomes (`finished_at`, `outcomes`, as before), the runs as a whole
 * (`run`), and each subvolume's last backup that ran and last published stream sizes,
 * kept across runs where it was not due. Loose: a newer writer may add fields.
 */
const RunRecordSchema = v.object({
  version: v.literal(2),
  finished_at: v.nullable(isoTime),
  outcomes: v.array(v.unknown()),
  run: v.object({
    /** Set by the lock holder at its start, cleared at its end; still set at the next start means that run died. */
    in_progress: v.boolean(),
    pid: v.nullable(count),
    last_attempt_at: v.nullable(isoTime),
    last_exit_code: v.nullable(v.pipe(v.number(), v.integer())),
  }),
  subvolumes: v.record(v.string(), RunMetricsSchema),
  /** The last published send stream's size per subvolume and kind: the next backup's progress estimate. */
  stream_bytes: v.record(v.string(), v.object({ full: v.optional(count), inc: v.optional(count) })),
  /** When each subvolume's last published backup was taken, as the state said at the last write. */
  last_success: v.record(v.string(), isoTime),
});

type RunRecord = v.InferOutput<typeof RunRecordSchema>;

const emptyRecord = (): RunRecord => ({
  version: 2,
  finished_at: null,
  outcomes: [],
  run: { in_progress: false, pid: null, last_attempt_at: null, last_exit_code: null },
  subvolumes: {},
  stream_bytes: {},
  last_success: {},
});

/** The record as last written; missing, damaged (with a warning) or an earlier release's (no `version`): an empty one. */
const readRecord = (path: string, logger: Logger): Promise<RunRecord> =>
  readMetricsRecord(
    path,
    logger,
    (document) =>
      typeof document === 'object' && document !== null && !('version' in document) ? emptyRecord() : v.parse(RunRecordSchema, document),
    emptyRecord,
  );

/** The last published stream size of a subvolume's backups of this kind, from the metrics record; undefined before one. */
export async function lastStreamBytes(
  config: RemoteConfig,
  subvolume: string,
  kind: 'full' | 'inc',
  logger: Logger,
): Promise<number | undefined> {
  return (await readRecord(config.global.metrics_path, logger)).stream_bytes[subvolume]?.[kind];
}

const seconds = (iso: string) => new Date(iso).getTime() / 1000;

/**
 * Records backup runs in the metrics record and the Prometheus textfile, at a run's
 * start and on every way it ends, so that a failed, interrupted or killed run never
 * looks like the last good one. `run_in_progress` is 1 while a backup that set it at its
 * start has not ended and a live process holds the run lock.
 */
export class RunRecorder {
  private holder = false;
  /** The run's outcomes once every subvolume was tried: kept for its end, whatever fails after them (the prune). */
  private result: BackupResult | undefined;

  constructor(
    private config: RemoteConfig,
    private readonly logger: Logger,
    private readonly startedAt: Date,
  ) {}

  /** Called by the lock holder before anything else; a run the record still shows in progress died, and is recorded so. */
  async started(config: RemoteConfig): Promise<void> {
    this.config = config; // after an upgrade's move of the files
    this.holder = true;
    const record = await readRecord(config.global.metrics_path, this.logger);
    if (record.run.in_progress) {
      this.logger.warn(
        `the previous backup run (PID ${record.run.pid ?? 'unknown'}, started ${record.run.last_attempt_at ?? 'at an unknown time'}) ended without recording its outcome (killed, or the host went down); recorded as exit code ${UNFINISHED_RUN_EXIT_CODE}`,
      );
      record.run.last_exit_code = UNFINISHED_RUN_EXIT_CODE;
    }
    record.run = { ...record.run, in_progress: true, pid: process.pid, last_attempt_at: this.startedAt.toISOString() };
    await this.write(record, true);
  }

  /** Called once every due subvolume was backed up (or failed), before the prune after them. */
  ran(result: BackupResult): void {
    this.result = result;
  }

  /**
   * Called however the run ended, after the lock is released: its exit code, and the
   * outcomes of a run that got as far as backing up. A run that never held the lock
   * (busy, refused before it) records its attempt and exit code, not the holder's state.
   */
  async finished(exitCode: number, result: BackupResult | undefined, finishedAt: Date): Promise<void> {
    const record = await readRecord(this.config.global.metrics_path, this.logger);
    // Only the run that set it clears it: a run refused beside another backup leaves that
    // one in progress, and one refused beside a dead run leaves the next start to find it.
    if (this.holder) record.run.in_progress = false;
    record.run.last_attempt_at = this.startedAt.toISOString();
    record.run.last_exit_code = exitCode;
    const outcomes = result ?? this.result;
    if (outcomes !== undefined) this.recordOutcomes(record, outcomes, finishedAt);
    // In progress as the file says: a backup set it and a live process holds the lock (not a prune or drill alone).
    const running = record.run.in_progress && (await lockHolder(this.config.global.lock_path)) !== undefined;
    await this.write(record, running);
  }

  private recordOutcomes(record: RunRecord, result: BackupResult, finishedAt: Date): void {
    record.finished_at = finishedAt.toISOString();
    record.outcomes = result.outcomes;
    for (const outcome of result.outcomes) {
      if (outcome.result === 'published') {
        record.subvolumes[outcome.subvolume] = outcome.metrics;
        if (outcome.metrics.kind !== 'none')
          record.stream_bytes[outcome.subvolume] = {
            ...record.stream_bytes[outcome.subvolume],
            [outcome.metrics.kind]: outcome.metrics.bytes,
          };
      } else if (outcome.result === 'failed') {
        record.subvolumes[outcome.subvolume] = failedRun(outcome.subvolume, outcome.kind, finishedAt);
      }
    }
  }

  private async write(record: RunRecord, inProgress: boolean): Promise<void> {
    const { metrics_path: path, prometheus_textfile: textfile, state_path: statePath } = this.config.global;
    const state = await readState(statePath).catch(() => undefined); // a damaged state: the last known times stand
    if (state !== undefined)
      record.last_success = Object.fromEntries(Object.entries(state.subvolumes).map(([name, entry]) => [name, entry.last_backup_at]));
    await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`, 0o644);
    if (textfile === undefined) return;
    const text = renderPrometheusTextfile({
      run: {
        inProgress,
        lastAttempt: record.run.last_attempt_at === null ? null : seconds(record.run.last_attempt_at),
        lastExitCode: record.run.last_exit_code,
      },
      subvolumes: Object.values(record.subvolumes).sort((a, b) => (a.subvolume < b.subvolume ? -1 : 1)),
      lastSuccess: Object.entries(record.last_success).map(([subvolume, at]) => ({ subvolume, timestamp: seconds(at) })),
    });
    await writeFileAtomic(textfile, text, 0o644);
  }
}

function failedRun(subvolume: string, kind: SubvolumeRunMetrics['kind'], finishedAt: Date): SubvolumeRunMetrics {
  return {
    subvolume,
    kind,
    ok: false,
    bytes: 0,
    chunks: 0,
    parts: 0,
    retries: 0,
    resumedBytes: 0,
    elapsedSeconds: 0,
    finishedAt: finishedAt.getTime() / 1000,
  };
}
