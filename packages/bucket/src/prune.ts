import {
  BtrfsToS3Error,
  type Config,
  type EarlyDeletion,
  ExitCode,
  planRemoteRetention,
  type RemoteConfig,
  type RemoteInventory,
  type RemoteRetentionPlan,
  restorablePoints,
  type Logger,
  type RetentionEntry,
  selectSubvolumes,
  silentLogger,
  withActivity,
  withLock,
  liveResumeRecords,
  type ManifestSource,
  parseWriterMarker,
  subvolumePrefix,
  type Writer,
  writerIdentity,
  writerMarkerKey,
} from '@org/btrfs-s3-core';
import { formatBytes } from '@org/btrfs-s3-metrics';
import type { OpenUpload, S3Bucket } from '@org/btrfs-s3-store';
import { type BucketContext, type BucketOptions, withBucketContext } from './context';
import { deleteAllVersions, NOTHING_LOCKED, type VersionedDeletion } from './delete-versions';
import { listSubvolumeObjects, readInventory } from './inventory';
import { recordChecks, recordInventory } from './metrics-record';
import type { PruneResult, PruneSubvolume } from './schemas';

export interface PruneOptions extends BucketOptions {
  /** Prune runs where backups run: it needs the configured subvolumes and takes their lock. */
  readonly config: Config;
  /** Configured subvolumes to prune; all when absent or empty. */
  readonly subvolumes?: readonly string[];
  /** Say what would go and why; delete nothing. */
  readonly dryRun?: boolean;
  /** This host as a writer: others' unpublished runs are never deleted. Default from /etc/machine-id. */
  readonly writer?: Writer;
}

/** What pruneHeld takes: the caller's bucket handle in place of `deps`. */
export interface HeldPruneOptions {
  readonly config: RemoteConfig;
  /** The caller's handle; its signal and retry policy apply to the listings, reads and deletes. */
  readonly bucket: S3Bucket;
  /** Configured subvolumes to prune, taken as given. */
  readonly subvolumes: readonly string[];
  /** Say what would go and why; delete nothing. */
  readonly dryRun?: boolean;
  /** Silent when absent. */
  readonly logger?: Logger;
  /** Checked between subvolumes (pass the bucket's). */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** This host as a writer (the backup's); others' unpublished runs are never deleted. */
  readonly writer: Writer;
  /**
   * Asked for each subvolume whose plan deletes something, before anything of it is
   * deleted (a backup proves the new chain here); false deletes nothing of that
   * subvolume. Not asked when the plan deletes nothing, nor in a dry run. `manifests`
   * answers with the texts the prune read a moment before (the bucket for any other
   * key), so a proof need not read the chain again one manifest after another. It is
   * undefined in a versioned bucket: the prune reads through delete markers there, and a
   * proof must see a manifest hidden by one as missing, so it reads with its own handle.
   */
  readonly beforeDelete?: (subvolume: string, manifests: ManifestSource | undefined) => Promise<boolean>;
}

/** Pruning some or all subvolumes failed; the others were pruned. */
export class PruneFailedError extends BtrfsToS3Error {
  constructor(
    readonly result: PruneResult,
    failed: readonly string[],
    allFailed: boolean,
    /** Why each failed subvolume failed, in the order of `failed`. */
    readonly errors: readonly unknown[] = [],
  ) {
    super(`prune failed for ${failed.join(', ')}`, { exitCode: allFailed ? ExitCode.Fatal : ExitCode.PartialFailure });
  }
}

/**
 * Remote retention for the selected subvolumes (docs/operations.md): takes the host
 * lock (so it never races a backup; a dry run only reads and takes none) and refuses
 * while a restore runs on this host (ActivityBusyError, exit 3), then per
 * subvolume lists its objects, reads its manifests and current.json, decides
 * (planRemoteRetention) and, unless `dryRun`, deletes, manifests first. In a versioned
 * bucket it deletes versions, not just keys, and reports what Object Lock keeps
 * (deleteAllVersions). One subvolume failing does not stop the others;
 * PruneFailedError then names it. With `s3.object_lock` on a bucket without Object
 * Lock it refuses before the lock (ObjectLockUnavailableError, exit 2).
 */
export async function runPrune(options: PruneOptions): Promise<PruneResult> {
  const subvolumes = selectSubvolumes(options.config, options.subvolumes ?? []).map((entry) => entry.subvolume);
  const dryRun = options.dryRun ?? false;
  const writer = options.writer ?? (await writerIdentity());
  const prune = withBucketContext(options, async (context) => {
    // Before the lock or any delete: s3.object_lock on a bucket that cannot lock is a config error.
    await context.bucket.assertObjectLockReady();
    const prune = () => pruneSubvolumes(context, subvolumes, dryRun, writer);
    if (dryRun) return prune();
    const lockPath = options.config.global.lock_path;
    const warn = (message: string) => options.logger?.warn(message);
    return withLock(lockPath, () => withActivity(lockPath, 'prune', prune), { warn });
  });
  return dryRun ? prune : recordPrune(options.config, options.logger ?? silentLogger(), options.deps?.now ?? (() => new Date()), prune);
}

/**
 * runPrune for a caller that already holds the host lock and its bucket handle:
 * backup, after a run that published everything (`s3.prune_after_backup`). The caller
 * also registers the prune beside the lock (withActivity), so no restore runs beside it.
 */
export function pruneHeld(options: HeldPruneOptions): Promise<PruneResult> {
  const context: BucketContext = {
    config: options.config,
    logger: options.logger ?? silentLogger(),
    bucket: options.bucket,
    now: options.now ?? (() => new Date()),
    signal: options.signal ?? new AbortController().signal,
  };
  const prune = pruneSubvolumes(context, options.subvolumes, options.dryRun ?? false, options.writer, options.beforeDelete);
  return options.dryRun === true ? prune : recordPrune(context.config, context.logger, context.now, prune);
}

/** A prune that deletes records its outcome, success or not, in the prune's own metrics files. */
async function recordPrune(config: RemoteConfig, logger: Logger, now: () => Date, prune: Promise<PruneResult>): Promise<PruneResult> {
  const record = (ok: boolean, problem: string | null) =>
    recordChecks(config, logger, 'prune', [{ labels: {}, ok, last_attempt_at: now().toISOString(), problem }]);
  try {
    const result = await prune;
    await record(true, null);
    return result;
  } catch (error) {
    await record(false, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

type BeforeDelete = HeldPruneOptions['beforeDelete'];

async function pruneSubvolumes(
  given: BucketContext,
  subvolumes: readonly string[],
  dryRun: boolean,
  writer: Writer,
  beforeDelete?: BeforeDelete,
): Promise<PruneResult> {
  // A versioned bucket is pruned version by version, judged by what is really there:
  // objects hidden under delete markers count (a backup's handle does not see them).
  const seeing = given.bucket.throughDeleteMarkers((message) => given.logger.warn(message));
  // Open uploads read the same through either handle: the first subvolume's are listed
  // beside the versioning read, one round trip fewer (its failure is met in pruneOne).
  const [first] = subvolumes;
  const firstUploads = first === undefined ? undefined : given.bucket.listOpenUploads(pruneDir(given, first));
  firstUploads?.catch(() => undefined);
  const context = { ...given, bucket: await seeing };
  const results: PruneSubvolume[] = [];
  const failed: string[] = [];
  const errors: unknown[] = [];
  for (const subvolume of subvolumes) {
    context.signal.throwIfAborted();
    try {
      const uploads = subvolume === first ? firstUploads : undefined;
      results.push(await pruneOne(context, subvolume, dryRun, writer, beforeDelete, uploads));
    } catch (error) {
      if (context.signal.aborted) throw error;
      context.logger.error(`${subvolume}: prune failed: ${error instanceof Error ? error.message : String(error)}`);
      failed.push(subvolume);
      errors.push(error);
    }
  }
  const result: PruneResult = { dryRun, subvolumes: results };
  if (!dryRun) await recordInventory(context.config, context.logger, () => listSubvolumeObjects(context), context.now);
  if (failed.length > 0) throw new PruneFailedError(result, failed, results.length === 0, errors);
  return result;
}

const bytesOf = (entry: RetentionEntry<string>) => entry.objects.reduce((sum, object) => sum + object.size, 0);
const summary = (entry: RetentionEntry<string>) => ({
  what: entry.what,
  dir: entry.dir,
  dirs: [...entry.dirs],
  detail: entry.detail,
  objects: entry.objects.length,
  bytes: bytesOf(entry),
});

/** The directory a subvolume's backups are under, with its trailing slash. */
const pruneDir = (context: BucketContext, subvolume: string) => `${subvolumePrefix(context.config.s3.prefix, subvolume)}/`;

async function pruneOne(
  context: BucketContext,
  subvolume: string,
  dryRun: boolean,
  writer: Writer,
  beforeDelete: BeforeDelete | undefined,
  /** Its open uploads, when the caller started listing them already. */
  openUploads: Promise<OpenUpload[]> | undefined,
): Promise<PruneSubvolume> {
  const { config, logger, bucket } = context;
  const prefix = pruneDir(context, subvolume);
  // Uploads before objects: one completing in between is then seen as a fresh object, or dated now.
  const listed = await (openUploads ?? bucket.listOpenUploads(prefix));
  const versions = bucket.seesThroughDeleteMarkers ? await bucket.listVersions(prefix) : undefined;
  const objects = versions?.objects ?? (await listSubvolumeObjects(context, [subvolume])).get(subvolume) ?? [];
  const texts = new Map<string, string>();
  const inventory = await readInventory(context, subvolume, objects, texts);
  const uploads = await uploadsInFailedRuns(context, inventory, listed);
  const settings = {
    now: context.now(),
    retainGenerations: config.s3.retain_generations,
    graceHours: config.s3.prune_grace_hours,
    foreignRuns: await foreignRunDirs(context, inventory, writer),
    resumableRuns: await resumableRunDirs(context, subvolume),
    uploadActivity: newestActivityByDir(uploads),
  };
  const first = planRemoteRetention(inventory, settings);
  // Someone may be restoring what would go: a thaw ongoing or unexpired keeps it.
  const beingRestored = await thawedKeys(context, first.delete);
  const plan = beingRestored.size === 0 ? first : planRemoteRetention(inventory, { ...settings, beingRestored });
  const manifests: ManifestSource | undefined = bucket.seesThroughDeleteMarkers
    ? undefined
    : { readText: async (key) => texts.get(key) ?? bucket.readTextIfExists(key) };
  if (!dryRun && plan.delete.length > 0 && beforeDelete !== undefined && !(await beforeDelete(subvolume, manifests)))
    return keptWhole(inventory, plan, 'nothing deleted: the caller refused (a new chain failed its check)');
  report(context, plan, dryRun);
  let deleted: VersionedDeletion = { deletedObjects: 0, deletedBytes: 0, locked: NOTHING_LOCKED };
  if (!dryRun && plan.keys.length > 0)
    deleted =
      versions === undefined
        ? {
            deletedObjects: await bucket.deleteObjects(plan.keys),
            deletedBytes: plan.delete.reduce((sum, entry) => sum + bytesOf(entry), 0),
            locked: NOTHING_LOCKED,
          }
        : await deleteAllVersions(context, plan, versions.versions);
  if (!dryRun) await abortUploadsIn(context, plan, uploads);
  const { deletedObjects, deletedBytes, locked } = deleted;
  if (!dryRun && plan.keys.length > 0) logger.info(`${subvolume}: deleted ${deletedObjects} object(s), ${formatBytes(deletedBytes)}`);
  return {
    subvolume,
    keep: plan.keep.map((entry) => ({ ...summary(entry), reason: entry.reason })),
    delete: plan.delete.map((entry) => ({ ...summary(entry), reason: entry.reason })),
    deletedObjects,
    deletedBytes,
    earlyDeletions: [...plan.earlyDeletions],
    warnings: [...plan.warnings],
    restorablePointsLeft: pointsLeft(inventory, plan),
    locked,
  };
}

/** The result of a subvolume whose plan was not carried out (`why`): every entry kept, nothing deleted. */
function keptWhole(inventory: RemoteInventory, plan: RemoteRetentionPlan, why: string): PruneSubvolume {
  return {
    subvolume: plan.subvolume,
    keep: plan.keep.map((entry) => ({ ...summary(entry), reason: entry.reason })),
    delete: [],
    deletedObjects: 0,
    deletedBytes: 0,
    earlyDeletions: [],
    warnings: [...plan.warnings, why],
    restorablePointsLeft: restorablePoints(inventory).map((point) => point.createdAt.toISOString()),
    locked: NOTHING_LOCKED,
  };
}

/** Directories without a manifest whose writer.json names another writer (a run of another host, maybe still uploading). */
async function foreignRunDirs(context: BucketContext, inventory: RemoteInventory, writer: Writer): Promise<Set<string>> {
  const foreign = new Set<string>();
  for (const run of inventory.incomplete) {
    const key = writerMarkerKey(run.dir);
    if (!run.objects.some((object) => object.key === key)) continue;
    const text = await context.bucket.readTextIfExists(key);
    if (text !== undefined && parseWriterMarker(key, text).writer.id !== writer.id) foreign.add(run.dir);
  }
  return foreign;
}

/** Directories an interrupted backup of this host left to be resumed (live resume records beside the state file). */
async function resumableRunDirs(context: BucketContext, subvolume: string): Promise<Set<string>> {
  const { config } = context;
  const records = await liveResumeRecords(config.global.state_path, [subvolume], context.now(), config.s3.resume_max_age_hours);
  return new Set(records.map((record) => record.backup_prefix));
}

/**
 * The listed uploads in directories without a manifest, each dated by its newest part;
 * one whose date cannot be known (gone since the listing, an undated part) counts as
 * active now, so nothing it may still need is deleted.
 */
async function uploadsInFailedRuns(
  context: BucketContext,
  inventory: RemoteInventory,
  listed: readonly OpenUpload[],
): Promise<DirUpload[]> {
  const dirOf = (key: string) => inventory.incomplete.find((run) => key.startsWith(`${run.dir}/`))?.dir;
  const inFailedRuns = listed.filter((upload) => dirOf(upload.key) !== undefined);
  if (inFailedRuns.length === 0) return [];
  const now = context.now();
  return (await context.bucket.uploadActivity(inFailedRuns)).map((upload) => ({
    ...upload,
    dir: dirOf(upload.key) ?? '',
    lastActivity: upload.lastActivity ?? now,
  }));
}

type DirUpload = OpenUpload & { readonly dir: string; readonly lastActivity: Date };

function newestActivityByDir(uploads: readonly DirUpload[]): Map<string, Date> {
  const newest = new Map<string, Date>();
  for (const upload of uploads) {
    const known = newest.get(upload.dir);
    if (known === undefined || upload.lastActivity > known) newest.set(upload.dir, upload.lastActivity);
  }
  return newest;
}

/** A failed run's directory deleted leaves its open uploads billed until aborted: abort them too (they are as old as it). */
async function abortUploadsIn(context: BucketContext, plan: RemoteRetentionPlan, uploads: readonly DirUpload[]): Promise<void> {
  const deleted = new Set(plan.delete.filter((entry) => entry.what === 'incomplete').map((entry) => entry.dir));
  const ids = new Set(uploads.filter((upload) => deleted.has(upload.dir)).map((upload) => upload.uploadId));
  if (ids.size === 0) return;
  const aborted = await context.bucket.abortStaleMultipartUploads(pruneDir(context, plan.subvolume), (upload) => ids.has(upload.uploadId));
  context.logger.info(`${plan.subvolume}: aborted ${aborted.length} open upload(s) of the deleted failed run(s)`);
}

const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE', 'INTELLIGENT_TIERING']);

/** The archived objects among `entries` with a thaw ongoing or unexpired (one HeadObject each; the listing does not say). */
async function thawedKeys(context: BucketContext, entries: readonly RetentionEntry<string>[]): Promise<Set<string>> {
  const archived = entries.flatMap((entry) => entry.objects).filter((object) => ARCHIVE_CLASSES.has(object.storageClass));
  const thawed = new Set<string>();
  for (const object of archived) if ((await context.bucket.headObject(object.key)).thaw !== undefined) thawed.add(object.key);
  return thawed;
}

/** The restorable points outside what the plan deletes: how far back `restore --at` still reaches. */
function pointsLeft(inventory: RemoteInventory, plan: RemoteRetentionPlan): string[] {
  const deleted = new Set(plan.delete.flatMap((entry) => entry.dirs));
  return restorablePoints(inventory)
    .filter((point) => !deleted.has(point.dir))
    .map((point) => point.createdAt.toISOString());
}

/** Logs what goes and why, what stays for a reason worth knowing, and the early-deletion charge before anything is deleted. */
function report(context: BucketContext, plan: RemoteRetentionPlan, dryRun: boolean): void {
  const { logger } = context;
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
