import { unusableRecipient } from '@org/btrfs-s3-codec';
import { Btrfs, SnapshotManager, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { PruneFailedError, pruneHeld, type VerifySubvolume } from '@org/btrfs-s3-bucket';
import {
  ActivityBusyError,
  BtrfsToS3Error,
  compactTimestamp,
  type Config,
  ConfigError,
  emptyState,
  errnoCode,
  ExitCode,
  exitCodeOf,
  liveResumeRecords,
  type Logger,
  type ManifestSource,
  migrateLegacyStatePaths,
  type ProgressListener,
  readState,
  selectSubvolumes,
  silentLogger,
  type State,
  StateError,
  type SubvolumePlan,
  withActivity,
  withLegacyStatePaths,
  withLock,
  writerIdentity,
  writeState,
} from '@org/btrfs-s3-core';
import { isAccessDenied, S3Bucket, withS3Client } from '@org/btrfs-s3-store';
import { rename } from 'node:fs/promises';
import { backupSubvolume, type RunnablePlan } from './backup-subvolume';
import { keepChainLocked } from './keep-chain-locked';
import type { BackupContext, BackupDeps } from './context';
import { ASSUME_MANIFESTS_PRESENT, planNow } from './plan-world';
import { recoverFromDeadRuns } from './recover';
import { assertOwnPrefix } from './own-prefix';
import { proveChain, unprovenChains } from './prove-chains';
import { RunRecorder } from './run-record';
import { type BackupResult, type SubvolumeOutcome, toPlanEntry } from './schemas';
import { TOOL_VERSION } from './version';

export interface BackupOptions {
  readonly config: Config;
  /** Ignore the schedule: back up every selected subvolume now. */
  readonly once?: boolean;
  /** Fulls instead of incrementals. */
  readonly full?: boolean;
  /** Only these subvolumes (names, as in the S3 keys); all configured ones when absent or empty. */
  readonly subvolumes?: readonly string[];
  /** Plan and change nothing. */
  readonly dryRun?: boolean;
  /** Start afresh instead of resuming an interrupted backup (its snapshot and open upload are cleaned up). */
  readonly noResume?: boolean;
  /** Snapshots only: no S3 access at all. */
  readonly noS3?: boolean;
  /**
   * Back up even where current.json was written by another host (a rebuilt host
   * resuming after a disaster); from then on this host is the prefix's writer.
   */
  readonly takeOver?: boolean;
  /** Silent when absent. */
  readonly logger?: Logger;
  /** Aborting it stops the run: open multipart uploads are aborted, the previous backup stays current. */
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressListener;
  readonly deps?: BackupDeps;
}

/** Some or all subvolumes failed; the run's exit code says which (4: some, 1: all). Carries the whole result. */
export class BackupFailedError extends BtrfsToS3Error {
  constructor(
    readonly result: BackupResult,
    failed: readonly string[],
    allFailed: boolean,
  ) {
    super(`backup failed for ${failed.join(', ')}`, { exitCode: allFailed ? ExitCode.Fatal : ExitCode.PartialFailure });
  }
}

/** A recipient the age library refuses (a typo that fails bech32's checksum) fails the run here, not at its first chunk. */
function assertRecipients(recipients: readonly string[]): void {
  const unusable = unusableRecipient(recipients);
  if (unusable !== undefined)
    throw new ConfigError([
      { key: 'encryption.recipients', message: `${unusable.recipient} is not a usable age recipient: ${unusable.reason}` },
    ]);
}

function isRunnable(plan: SubvolumePlan): plan is RunnablePlan {
  return plan.action === 'full' || plan.action === 'incremental';
}

/**
 * A backup run: validate the selection, take the lock, clean up after dead runs
 * (their multipart uploads, a pointer that state missed), plan, then back up each
 * due subvolume in turn: snapshot, `btrfs send` into a chunked upload, manifest,
 * then `current.json`, then state and local snapshot retention. One subvolume
 * failing does not stop the others (BackupFailedError names them); an abort stops
 * the run. With `s3.object_lock`, refuses a bucket without Object Lock before anything
 * else, and keeps each published chain locked. After a run that published everything,
 * prunes the bucket when `s3.prune_after_backup` is set. Writes the run's metrics file.
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const { config } = options;
  // Bad input fails before any side effect, the metrics files included.
  selectSubvolumes(config, options.subvolumes ?? []);
  assertRecipients(config.encryption.recipients);
  const now = options.deps?.now ?? (() => new Date());
  // A dry run changes nothing, its metrics included.
  if (options.dryRun === true) return runBackupUnrecorded(options);
  const recorder = new RunRecorder(options.config, options.logger ?? silentLogger(), now());
  let result: BackupResult;
  try {
    result = await runBackupUnrecorded(options, recorder);
  } catch (error) {
    const failed = error instanceof BackupFailedError ? error.result : undefined;
    await recordEnd(recorder, exitCodeOf(error, options.signal), failed, now(), options.logger);
    throw error;
  }
  await recordEnd(recorder, ExitCode.Success, result, now(), options.logger);
  return result;
}

/** The run's end goes into the metrics; failing to write them is logged, never put in place of the run's own outcome. */
async function recordEnd(recorder: RunRecorder, exitCode: number, result: BackupResult | undefined, at: Date, logger?: Logger) {
  try {
    await recorder.finished(exitCode, result, at);
  } catch (error) {
    logger?.error(`cannot write the run's metrics: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function runBackupUnrecorded(options: BackupOptions, recorder?: RunRecorder): Promise<BackupResult> {
  const { config, deps = {} } = options;
  const btrfs = deps.btrfs ?? new Btrfs(spawnProcessRunner);
  const signal = options.signal ?? new AbortController().signal;
  const writer = deps.writer ?? (await writerIdentity());
  return withS3Client(config.s3, deps.client, (client) =>
    run(
      {
        config,
        logger: options.logger ?? silentLogger(),
        btrfs,
        snapshots: deps.snapshots ?? new SnapshotManager(btrfs, config.snapshots.base_dir),
        bucket: new S3Bucket(client, config.s3, { signal }),
        now: deps.now ?? (() => new Date()),
        signal,
        onProgress: options.onProgress ?? (() => undefined),
        failpoint: deps.failpoint ?? (() => undefined),
        toolVersion: deps.toolVersion ?? TOOL_VERSION,
        writer,
        pointerEtags: new Map(),
        pointerTexts: new Map(),
      },
      options,
      recorder,
    ),
  );
}

async function run(context: BackupContext, options: BackupOptions, recorder?: RunRecorder): Promise<BackupResult> {
  const { config } = context;
  await assertSnapshotDirOnBtrfs(context);
  // Before the lock, a snapshot or any write: a bucket that cannot lock refuses s3.object_lock now.
  if (options.noS3 !== true) await context.bucket.assertObjectLockReady();
  if (options.dryRun === true) {
    const state = await readState((await withLegacyStatePaths(config)).global.state_path);
    const plan = await planNow(config, state, worldOf(context, options), context.now(), planOptionsOf(options));
    return { dryRun: true, plan: plan.map(toPlanEntry), outcomes: [] };
  }
  const locked = async () => {
    // An upgrade's first run moves the state from an earlier release's default path (never a surprise full).
    const migrated = await migrateLegacyStatePaths(config, context.logger);
    await recordStart(recorder, migrated);
    return runLocked(migrated === config ? context : { ...context, config: migrated }, options, recorder);
  };
  return withLock(config.global.lock_path, locked, { warn: (message) => context.logger.warn(message) });
}

/** The textfile must say a run is in progress before the run does anything; one that cannot be written names its key. */
async function recordStart(recorder: RunRecorder | undefined, config: Config): Promise<void> {
  try {
    await recorder?.started(config);
  } catch (error) {
    const key =
      config.global.prometheus_textfile === undefined ? 'global.metrics_path' : 'global.metrics_path or global.prometheus_textfile';
    const reason = errnoCode(error) ?? (error instanceof Error ? error.message : String(error));
    throw new ConfigError([{ key, message: `cannot write the run's metrics: ${reason}` }]);
  }
}

const planOptionsOf = (options: BackupOptions) => ({
  once: options.once ?? false,
  full: options.full ?? false,
  subvolumes: options.subvolumes ?? [],
});

const worldOf = (context: BackupContext, options: BackupOptions) => ({
  btrfs: context.btrfs,
  manifests: options.noS3 === true ? ASSUME_MANIFESTS_PRESENT : context.bucket,
});

async function runLocked(context: BackupContext, options: BackupOptions, recorder?: RunRecorder): Promise<BackupResult> {
  const { config } = context;
  const noS3 = options.noS3 ?? false;
  // Before anything that writes, deletes or aborts under the prefix.
  const listed = noS3 ? undefined : await assertOwnPrefix(context, options.takeOver ?? false);
  const state = await loadState(context);
  if (listed !== undefined && (await recoverFromDeadRuns(context, state, listed)).stateChanged)
    await writeState(config.global.state_path, state);
  const plan = await planNow(config, state, worldOf(context, options), context.now(), planOptionsOf(options));
  const outcomes: SubvolumeOutcome[] = [];
  for (const entry of plan) {
    context.signal.throwIfAborted();
    outcomes.push(
      await runOne(context, entry, state, { noS3, noResume: options.noResume ?? false, namesInBucket: listed?.runNames ?? [] }),
    );
  }
  state.last_run_at = context.now().toISOString();
  await writeState(config.global.state_path, state);
  const result: BackupResult = { dryRun: false, plan: plan.map(toPlanEntry), outcomes };
  recorder?.ran(result); // what was published counts even if the prune after it fails
  const failed = outcomes.filter((outcome) => outcome.result === 'failed').map((outcome) => outcome.subvolume);
  if (failed.length > 0)
    throw new BackupFailedError(result, failed, failed.length === outcomes.filter((outcome) => outcome.result !== 'not-due').length);
  await pruneAfterBackup(context, outcomes); // old generations go only after a run that published everything
  return result;
}

/** Before any side effect: snapshots can only be made on the subvolumes' Btrfs. */
async function assertSnapshotDirOnBtrfs(context: BackupContext): Promise<void> {
  const dir = context.config.snapshots.base_dir;
  if (!(await context.btrfs.isOnBtrfs(dir))) {
    throw new ConfigError([
      {
        key: 'snapshots.base_dir',
        message: `${dir} is not on a Btrfs filesystem; snapshots must be made on the filesystem of the subvolumes`,
      },
    ]);
  }
}

/**
 * The state file, or, when its content is corrupt, an empty state after moving the
 * file aside: state only caches what the bucket and the snapshot directory hold, and
 * recoverFromDeadRuns rebuilds it from current.json, so an unattended run need not
 * stop for it. An unreadable file or a newer version still stops the run.
 */
async function loadState(context: BackupContext): Promise<State> {
  const path = context.config.global.state_path;
  try {
    return await readState(path);
  } catch (error) {
    if (!(error instanceof StateError && error.corruption !== undefined)) throw error;
    const aside = `${path}.corrupt-${compactTimestamp(context.now())}`;
    await rename(path, aside);
    context.logger.error(
      `state file ${path} is corrupt (${error.corruption}); moved it to ${aside}; rebuilding state from current.json and the local snapshots`,
    );
    return emptyState();
  }
}

async function runOne(
  context: BackupContext,
  plan: SubvolumePlan,
  state: State,
  { noS3, noResume, namesInBucket }: { readonly noS3: boolean; readonly noResume: boolean; readonly namesInBucket: readonly string[] },
): Promise<SubvolumeOutcome> {
  const { config, logger } = context;
  const { subvolume } = plan;
  if (plan.action === 'none') {
    logger.info(`${subvolume}: nothing due (${plan.reason})`);
    return { subvolume, result: 'not-due', reason: plan.reason };
  }
  if (!isRunnable(plan)) {
    logger.error(`${subvolume}: not backed up: ${plan.reason}`);
    return { subvolume, result: 'failed', kind: 'none', error: plan.reason };
  }
  const previous = state.subvolumes[subvolume];
  if (noS3) {
    const snapshot = await context.snapshots.create(plan.path, subvolume, plan.action === 'full' ? 'full' : 'inc', context.now());
    logger.info(`${subvolume}: snapshot ${snapshot.name} (--no-s3: not uploaded)`);
    // Retention must never delete the next incremental's parent. Without S3, only the
    // state says which snapshot that is; with no record of it, delete nothing.
    if (previous === undefined)
      logger.warn(
        `${subvolume}: kept every local snapshot: the state records no uploaded snapshot and --no-s3 cannot read current.json, so the next incremental's parent is unknown; the next run with S3 restores the record`,
      );
    else await pruneSnapshots(context, subvolume, previous.last_snapshot);
    return { subvolume, result: 'snapshot-only', snapshot: snapshot.name };
  }
  try {
    const published = await backupSubvolume(context, plan, previous, { noResume, namesInBucket });
    // State follows the pointer, so it never names a backup a restore could not find.
    state.subvolumes[subvolume] = published.state;
    await writeState(config.global.state_path, state);
    await pruneSnapshots(context, subvolume, published.state.last_snapshot);
    await keepChainLocked(context, subvolume, published.manifestKey);
    return { subvolume, result: 'published', manifestKey: published.manifestKey, metrics: published.metrics };
  } catch (error) {
    if (context.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    logger.error(`${subvolume}: backup failed: ${message}`);
    return { subvolume, result: 'failed', kind: plan.action === 'full' ? 'full' : 'inc', error: message };
  }
}

/** Local retention: never the next incremental's parent (`keep`), nor the snapshot of a backup waiting to be resumed. */
async function pruneSnapshots(context: BackupContext, subvolume: string, keep: string | undefined): Promise<void> {
  const { config } = context;
  const pending = await liveResumeRecords(config.global.state_path, [subvolume], context.now(), config.s3.resume_max_age_hours);
  const kept = [...(keep === undefined ? [] : [keep]), ...pending.map((record) => record.snapshot.name)];
  const deleted = await context.snapshots.prune(subvolume, config.snapshots.retain, kept);
  for (const name of deleted) context.logger.info(`${subvolume}: deleted old snapshot ${name}`);
}

/**
 * `s3.prune_after_backup`: prunes the subvolumes this run published, inside its lock.
 * A subvolume whose plan deletes something is first proven (proveChain): its new chain
 * back to its full is read and checked. One that fails keeps every older generation
 * and fails the run (exit 1), naming what is damaged. A plan that deletes nothing needs
 * no proof, which saves reading the whole chain again after every backup.
 * A credential that may not delete (a backup-only policy) gets AccessDenied: the
 * backup itself succeeded, so that is a warning, not a failed run.
 */
async function pruneAfterBackup(context: BackupContext, outcomes: readonly SubvolumeOutcome[]): Promise<void> {
  const published = outcomes.flatMap((outcome) => (outcome.result === 'published' ? [outcome] : []));
  if (!context.config.s3.prune_after_backup || published.length === 0) return;
  const { config, logger, signal, bucket, now } = context;
  const damaged: VerifySubvolume[] = [];
  const beforeDelete = async (subvolume: string, manifests: ManifestSource | undefined): Promise<boolean> => {
    const newest = published.find((outcome) => outcome.subvolume === subvolume);
    if (newest === undefined) return false;
    const report = await proveChain(context, subvolume, newest.manifestKey, manifests);
    if (report.ok) return true;
    damaged.push(report);
    logger.error(
      `${subvolume}: not pruned: the new chain failed its check (${report.problems.map((problem) => problem.message).join('; ')})`,
    );
    return false;
  };
  try {
    await withActivity(config.global.lock_path, 'prune', () =>
      pruneHeld({
        config,
        logger,
        signal,
        bucket,
        now,
        subvolumes: published.map((outcome) => outcome.subvolume),
        writer: context.writer,
        beforeDelete,
      }),
    );
  } catch (error) {
    if (error instanceof ActivityBusyError) logger.warn(`the backup succeeded; pruning after it waits for the next run: ${error.message}`);
    else if (error instanceof PruneFailedError && error.errors.length > 0 && error.errors.every(isAccessDenied))
      logger.warn(
        'the backup succeeded; pruning after it was refused (AccessDenied): this credential may not delete, as a backup-only policy intends (docs/iam/backup-only.json); set s3.prune_after_backup = false to stop trying, and prune with a credential that may delete',
      );
    else throw error;
  }
  if (damaged.length > 0) throw unprovenChains(damaged);
}
