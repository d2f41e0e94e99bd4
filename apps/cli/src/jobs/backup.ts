import {
  acquireLock,
  BtrfsToS3Error,
  compactTimestamp,
  ConfigError,
  emptyState,
  ExitCode,
  planBackups,
  readState,
  selectSubvolumes,
  type State,
  StateError,
  type SubvolumePlan,
  writeState,
} from '@org/btrfs-s3-core';
import { rename } from 'node:fs/promises';
import type { SubvolumeRunMetrics } from '@org/btrfs-s3-metrics';
import { type BackupDeps, backupSubvolume, type RunnablePlan } from './backup-subvolume';
import { writeRunMetrics } from './metrics-output';
import { observePlanWorld } from './plan-input';
import { pruneAfterBackup } from './prune';
import { recoverFromDeadRuns } from './recover';

export interface BackupOptions {
  readonly once: boolean;
  readonly full: boolean;
  readonly subvolumes: readonly string[];
  /** Print the plan and change nothing. */
  readonly dryRun: boolean;
  /** Snapshots only: no S3 access at all. */
  readonly noS3: boolean;
}

export type SubvolumeOutcome =
  | { readonly subvolume: string; readonly result: 'published'; readonly manifestKey: string; readonly metrics: SubvolumeRunMetrics }
  | { readonly subvolume: string; readonly result: 'snapshot-only'; readonly snapshot: string }
  | { readonly subvolume: string; readonly result: 'not-due'; readonly reason: string }
  | { readonly subvolume: string; readonly result: 'failed'; readonly kind: 'full' | 'inc' | 'none'; readonly error: string };

export interface BackupResult {
  readonly dryRun: boolean;
  readonly plan: readonly SubvolumePlan[];
  readonly outcomes: readonly SubvolumeOutcome[];
}

/** Some or all subvolumes failed; the run's exit code says which. */
export class BackupFailedError extends BtrfsToS3Error {
  constructor(
    readonly result: BackupResult,
    failed: readonly string[],
    allFailed: boolean,
  ) {
    super(`backup failed for ${failed.join(', ')}`, { exitCode: allFailed ? ExitCode.Fatal : ExitCode.PartialFailure });
  }
}

function isRunnable(plan: SubvolumePlan): plan is RunnablePlan {
  return plan.action === 'full' || plan.action === 'incremental';
}

/**
 * A backup run: validate the selection, take the lock, clean up after dead runs
 * (their multipart uploads, a pointer that state missed), plan, then back up each due subvolume in turn. One subvolume failing
 * does not stop the others; an interrupt stops the run.
 */
export async function runBackup(deps: BackupDeps, options: BackupOptions): Promise<BackupResult> {
  const { config } = deps;
  selectSubvolumes(config, options.subvolumes); // a bad --subvolume fails before any side effect
  await assertSnapshotDirOnBtrfs(deps);
  const planOptions = { once: options.once, full: options.full, subvolumes: options.subvolumes };

  if (options.dryRun) {
    const state = await readState(config.global.state_path);
    const world = await observePlanWorld(config, state, { btrfs: deps.btrfs, manifests: deps.store });
    const plan = planBackups({ config, state, now: deps.now(), ...world, options: planOptions });
    return { dryRun: true, plan, outcomes: [] };
  }

  const lock = await acquireLock(config.global.lock_path);
  const releaseOnExit = () => lock.releaseSync();
  process.once('exit', releaseOnExit);
  try {
    const state = await loadState(deps);
    if (!options.noS3) {
      if ((await recoverFromDeadRuns(deps, state)).stateChanged) await writeState(config.global.state_path, state);
    }
    // Without S3 the parents' manifests cannot be checked; snapshots alone do not depend on them.
    const world = await observePlanWorld(config, state, options.noS3 ? { btrfs: deps.btrfs, manifests: { objectExists: async () => true } } : { btrfs: deps.btrfs, manifests: deps.store });
    const plan = planBackups({ config, state, now: deps.now(), ...world, options: planOptions });
    const outcomes: SubvolumeOutcome[] = [];
    for (const entry of plan) {
      deps.signal.throwIfAborted();
      outcomes.push(await runOne(deps, entry, state, options));
    }
    state.last_run_at = deps.now().toISOString();
    await writeState(config.global.state_path, state);
    const result: BackupResult = { dryRun: false, plan, outcomes };
    await writeRunMetrics(config, result, state, deps.now());
    const failed = outcomes.filter((outcome) => outcome.result === 'failed').map((outcome) => outcome.subvolume);
    if (failed.length > 0) throw new BackupFailedError(result, failed, failed.length === outcomes.filter((outcome) => outcome.result !== 'not-due').length);
    await pruneAfterBackup(deps, outcomes); // old generations go only after a run that published everything
    return result;
  } finally {
    await lock.release();
    process.removeListener('exit', releaseOnExit);
  }
}

/** Before any side effect: snapshots can only be made on the subvolumes' Btrfs. */
async function assertSnapshotDirOnBtrfs(deps: BackupDeps): Promise<void> {
  const dir = deps.config.snapshots.base_dir;
  if (!(await deps.btrfs.isOnBtrfs(dir))) {
    throw new ConfigError([{ key: 'snapshots.base_dir', message: `${dir} is not on a Btrfs filesystem; snapshots must be made on the filesystem of the subvolumes` }]);
  }
}

/**
 * The state file, or, when its content is corrupt, an empty state after moving the
 * file aside: state only caches what the bucket and the snapshot directory hold, and
 * recoverFromDeadRuns rebuilds it from current.json, so an unattended run need not
 * stop for it. An unreadable file or a newer version still stops the run.
 */
async function loadState(deps: BackupDeps): Promise<State> {
  const path = deps.config.global.state_path;
  try {
    return await readState(path);
  } catch (error) {
    if (!(error instanceof StateError && error.corruption !== undefined)) throw error;
    const aside = `${path}.corrupt-${compactTimestamp(deps.now())}`;
    await rename(path, aside);
    deps.logger.error(`state file ${path} is corrupt (${error.corruption}); moved it to ${aside}; rebuilding state from current.json and the local snapshots`);
    return emptyState();
  }
}

async function runOne(deps: BackupDeps, plan: SubvolumePlan, state: State, options: BackupOptions): Promise<SubvolumeOutcome> {
  const { config, logger } = deps;
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
  if (options.noS3) {
    const snapshot = await deps.snapshots.create(plan.path, subvolume, plan.action === 'full' ? 'full' : 'inc', deps.now());
    logger.info(`${subvolume}: snapshot ${snapshot.name} (--no-s3: not uploaded)`);
    await prune(deps, subvolume, previous?.last_snapshot);
    return { subvolume, result: 'snapshot-only', snapshot: snapshot.name };
  }
  try {
    const published = await backupSubvolume(deps, plan, previous);
    // State follows the pointer, so it never names a backup a restore could not find.
    state.subvolumes[subvolume] = published.state;
    await writeState(config.global.state_path, state);
    await prune(deps, subvolume, published.state.last_snapshot);
    return { subvolume, result: 'published', manifestKey: published.manifestKey, metrics: published.metrics };
  } catch (error) {
    if (deps.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    logger.error(`${subvolume}: backup failed: ${message}`);
    return { subvolume, result: 'failed', kind: plan.action === 'full' ? 'full' : 'inc', error: message };
  }
}

async function prune(deps: BackupDeps, subvolume: string, keep: string | undefined): Promise<void> {
  const deleted = await deps.snapshots.prune(subvolume, deps.config.snapshots.retain, keep);
  for (const name of deleted) deps.logger.info(`${subvolume}: deleted old snapshot ${name}`);
}
