import {
  acquireLock,
  BtrfsToS3Error,
  type EarlyDeletion,
  ExitCode,
  planRemoteRetention,
  type RemoteRetentionPlan,
  type RetentionEntry,
  selectSubvolumes,
} from '@org/btrfs-s3-core';
import { formatBytes } from '@org/btrfs-s3-metrics';
import { deleteObjects, retryPolicyFromConfig } from '@org/btrfs-s3-store';
import type { PruneResult, PruneSubvolume } from '../output-schemas';
import { listSubvolumeObjects, readInventory, type RemoteDeps } from './inventory';

export interface PruneOptions {
  /** Configured subvolumes to prune; all when empty. */
  readonly subvolumes: readonly string[];
  /** Say what would go and why; delete nothing. */
  readonly dryRun: boolean;
}

/** Pruning some or all subvolumes failed; the others were pruned. */
export class PruneFailedError extends BtrfsToS3Error {
  constructor(
    readonly result: PruneResult,
    failed: readonly string[],
    allFailed: boolean,
  ) {
    super(`prune failed for ${failed.join(', ')}`, { exitCode: allFailed ? ExitCode.Fatal : ExitCode.PartialFailure });
  }
}

/**
 * The `prune` command: takes the host lock (so it never races a backup; a dry run
 * only reads and takes none), then prunes the selected subvolumes.
 */
export async function runPrune(deps: RemoteDeps, options: PruneOptions): Promise<PruneResult> {
  const subvolumes = selectSubvolumes(deps.config, options.subvolumes).map((entry) => entry.subvolume);
  if (options.dryRun) return pruneRemote(deps, subvolumes, { dryRun: true });
  const lock = await acquireLock(deps.config.global.lock_path);
  const releaseOnExit = () => lock.releaseSync();
  process.once('exit', releaseOnExit);
  try {
    return await pruneRemote(deps, subvolumes, { dryRun: false });
  } finally {
    await lock.release();
    process.removeListener('exit', releaseOnExit);
  }
}

/**
 * `s3.prune_after_backup`: prunes the subvolumes a backup run published. Called by
 * backup inside its own lock; does nothing when the key is false.
 */
export async function pruneAfterBackup(deps: RemoteDeps, outcomes: readonly { readonly subvolume: string; readonly result: string }[]): Promise<PruneResult | undefined> {
  const published = outcomes.filter((outcome) => outcome.result === 'published').map((outcome) => outcome.subvolume);
  if (!deps.config.s3.prune_after_backup || published.length === 0) return undefined;
  return pruneRemote(deps, published, { dryRun: false });
}

/**
 * Remote retention for `subvolumes` (docs/operations.md): lists each subvolume's
 * objects, reads its manifests and current.json, decides (planRemoteRetention) and,
 * unless `dryRun`, deletes, manifests first. The caller holds the host lock. One
 * subvolume failing does not stop the others; PruneFailedError then names it.
 */
export async function pruneRemote(deps: RemoteDeps, subvolumes: readonly string[], options: { readonly dryRun: boolean }): Promise<PruneResult> {
  const results: PruneSubvolume[] = [];
  const failed: string[] = [];
  for (const subvolume of subvolumes) {
    deps.signal.throwIfAborted();
    try {
      results.push(await pruneOne(deps, subvolume, options.dryRun));
    } catch (error) {
      if (deps.signal.aborted) throw error;
      deps.logger.error(`${subvolume}: prune failed: ${error instanceof Error ? error.message : String(error)}`);
      failed.push(subvolume);
    }
  }
  const result: PruneResult = { dryRun: options.dryRun, subvolumes: results };
  if (failed.length > 0) throw new PruneFailedError(result, failed, results.length === 0);
  return result;
}

const bytesOf = (entry: RetentionEntry<string>) => entry.objects.reduce((sum, object) => sum + object.size, 0);
const summary = (entry: RetentionEntry<string>) => ({ what: entry.what, dir: entry.dir, dirs: [...entry.dirs], detail: entry.detail, objects: entry.objects.length, bytes: bytesOf(entry) });

async function pruneOne(deps: RemoteDeps, subvolume: string, dryRun: boolean): Promise<PruneSubvolume> {
  const { config, logger } = deps;
  const objects = (await listSubvolumeObjects(deps, [subvolume])).get(subvolume) ?? [];
  const inventory = await readInventory(deps, subvolume, objects);
  const plan = planRemoteRetention(inventory, { now: deps.now(), retainGenerations: config.s3.retain_generations, graceHours: config.s3.prune_grace_hours });
  report(deps, plan, dryRun);
  let deletedObjects = 0;
  if (!dryRun && plan.keys.length > 0) deletedObjects = await deleteObjects(deps.client, config.s3.bucket, plan.keys, { ...retryPolicyFromConfig(config.s3), signal: deps.signal });
  const deletedBytes = dryRun ? 0 : plan.delete.reduce((sum, entry) => sum + bytesOf(entry), 0);
  if (!dryRun && plan.keys.length > 0) logger.info(`${subvolume}: deleted ${deletedObjects} object(s), ${formatBytes(deletedBytes)}`);
  return {
    subvolume,
    keep: plan.keep.map((entry) => ({ ...summary(entry), reason: entry.reason })),
    delete: plan.delete.map((entry) => ({ ...summary(entry), reason: entry.reason })),
    deletedObjects,
    deletedBytes,
    earlyDeletions: [...plan.earlyDeletions],
    warnings: [...plan.warnings],
  };
}

/** Logs what goes and why, what stays for a reason worth knowing, and the early-deletion charge before anything is deleted. */
function report(deps: RemoteDeps, plan: RemoteRetentionPlan, dryRun: boolean): void {
  const { logger } = deps;
  const verb = dryRun ? 'would delete' : 'deleting';
  for (const entry of plan.delete) logger.info(`${plan.subvolume}: ${verb} ${describeEntry(summary(entry))}: ${entry.detail}`);
  for (const entry of plan.keep) logger.debug(`${plan.subvolume}: keeping ${describeEntry(summary(entry))}: ${entry.detail}`);
  for (const warning of plan.warnings) logger.warn(`${plan.subvolume}: ${warning}`);
  for (const early of plan.earlyDeletions) logger.warn(`${plan.subvolume}: ${earlyDeletionWarning(early, dryRun)}`);
}

/** "generation <dir> (2 backup(s)), 7 object(s), 30.0 MiB" */
export function describeEntry(entry: Pick<PruneSubvolume['keep'][number], 'what' | 'dir' | 'dirs' | 'objects' | 'bytes'>): string {
  const what = entry.what === 'generation' ? `generation ${entry.dir} (${entry.dirs.length} backup(s))` : `incomplete ${entry.dir}`;
  return `${what}, ${entry.objects} object(s), ${formatBytes(entry.bytes)}`;
}

/** Early deletion costs the same as keeping the objects to the minimum, so they go anyway; the operator should know. */
export function earlyDeletionWarning(early: EarlyDeletion, dryRun: boolean): string {
  return `${dryRun ? 'would delete' : 'deleting'} ${early.objects} object(s) (${formatBytes(early.bytes)}) in ${early.storageClass} before its ${early.minimumDays}-day minimum storage duration: S3 charges them as if stored ${early.minimumDays} days, the same as keeping them that long, so they are deleted now`;
}
