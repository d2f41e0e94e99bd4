import type { Generation, RemoteBackup, RemoteInventory, RemoteObject } from './inventory';
import { type EarlyDeletion, earlyDeletions } from './storage-duration';

/**
 * Remote retention (docs/operations.md, "prune"): which backup directories of one
 * subvolume to delete. Pure; the caller lists, reads and deletes.
 */

export interface RemoteRetentionSettings {
  readonly now: Date;
  /** `s3.retain_generations`: generations rooted at a full to keep, newest first. */
  readonly retainGenerations: number;
  /**
   * `s3.prune_grace_hours`: a failed run's directory is deleted only when its newest
   * object, and the newest part of any upload still open in it, are older than this.
   */
  readonly graceHours: number;
  /**
   * Per directory without a manifest, when an upload still open in it last received a
   * part: a run uploading one big chunk for hours adds no object meanwhile, so its
   * directory's newest object alone would make it look dead.
   */
  readonly uploadActivity?: ReadonlyMap<string, Date>;
  /**
   * Keys of archived objects with a thaw ongoing or unexpired (HeadObject's
   * x-amz-restore): someone is restoring them, so nothing that holds one is deleted.
   */
  readonly beingRestored?: ReadonlySet<string>;
  /** Directories without a manifest whose writer.json names another writer: its run, maybe still uploading; never deleted here. */
  readonly foreignRuns?: ReadonlySet<string>;
  /** Directories without a manifest that this host's live resume records name: its next backup continues them. */
  readonly resumableRuns?: ReadonlySet<string>;
}

/**
 * - `current`: the generation holds a backup reachable from current.json;
 * - `retained`: one of the newest `retainGenerations` generations rooted at a full;
 * - `newer-than-retained`: its chain breaks (no readable full), and it is not older than the oldest retained generation;
 * - `current-chain-broken`: current.json, or its chain, cannot be followed to a full, so nothing is deleted by age;
 * - `within-grace`: a failed run's directory, younger than the grace period;
 * - `being-restored`: it would be deleted, but an object of it has a thaw ongoing or unexpired;
 * - `another-writer`: a directory without a manifest whose writer.json names another host;
 * - `resumable`: a directory without a manifest whose interrupted backup this host resumes (a live resume record).
 */
export type KeepReason =
  | 'current'
  | 'retained'
  | 'newer-than-retained'
  | 'current-chain-broken'
  | 'within-grace'
  | 'being-restored'
  | 'another-writer'
  | 'resumable';

/** - `old-generation`: older than the retained generations and not reachable; - `failed-run`: no manifest, past the grace period. */
export type DeleteReason = 'old-generation' | 'failed-run';

export interface RetentionEntry<Reason extends string> {
  readonly what: 'generation' | 'incomplete';
  /** The generation's root (its full's directory, or where its chain breaks), or the incomplete directory. */
  readonly dir: string;
  /** Every backup directory the entry covers, oldest first. */
  readonly dirs: readonly string[];
  readonly reason: Reason;
  /** Why, for people. */
  readonly detail: string;
  readonly objects: readonly RemoteObject[];
}

export interface RemoteRetentionPlan {
  readonly subvolume: string;
  readonly keep: readonly RetentionEntry<KeepReason>[];
  readonly delete: readonly RetentionEntry<DeleteReason>[];
  /**
   * The keys to delete, manifests first: a prune cut short leaves chunks without a
   * manifest (a failed run's shape, which the next prune removes), never a manifest
   * whose chunks are half gone.
   */
  readonly keys: readonly string[];
  /** Objects deleted before their class's minimum storage duration (charged as if kept that long). */
  readonly earlyDeletions: readonly EarlyDeletion[];
  readonly warnings: readonly string[];
}

const HOUR_MS = 3_600_000;

const hours = (ms: number) => `${(ms / HOUR_MS).toFixed(1)} h`;

function entry<Reason extends string>(
  what: 'generation' | 'incomplete',
  dir: string,
  backups: readonly RemoteBackup[],
  reason: Reason,
  detail: string,
): RetentionEntry<Reason> {
  return { what, dir, dirs: backups.map((backup) => backup.dir), reason, detail, objects: backups.flatMap((backup) => backup.objects) };
}

function judgeGeneration(
  inventory: RemoteInventory,
  generation: Generation,
  retained: readonly Generation[],
  settings: RemoteRetentionSettings,
): { keep: KeepReason; detail: string } | { delete: DeleteReason; detail: string } {
  if (generation.current) return { keep: 'current', detail: 'reachable from current.json' };
  if (inventory.chainBreak !== undefined) {
    return {
      keep: 'current-chain-broken',
      detail: `the chain from current.json does not reach a full (${inventory.chainBreak}); nothing is deleted by age until it is repaired (run verify)`,
    };
  }
  if (retained.includes(generation))
    return { keep: 'retained', detail: `one of the newest ${settings.retainGenerations} generation(s) (s3.retain_generations)` };
  const oldestRetained = retained.length < settings.retainGenerations ? undefined : retained[retained.length - 1];
  // A chain without a readable full cannot be dated by its full; only one older than every retained generation is surely old.
  if (generation.rootState !== 'full' && (oldestRetained === undefined || generation.createdAt >= oldestRetained.createdAt)) {
    return {
      keep: 'newer-than-retained',
      detail: `its chain breaks at ${generation.root} (${generation.rootState}) and it is not older than the oldest retained generation`,
    };
  }
  const what =
    generation.rootState === 'full'
      ? 'older than the newest'
      : `its chain breaks at ${generation.root} (${generation.rootState}) and it is older than the newest`;
  return {
    delete: 'old-generation',
    detail: `${what} ${settings.retainGenerations} generation(s) (s3.retain_generations), not reachable from current.json`,
  };
}

/**
 * A directory without a manifest goes once its last sign of life, an object or an open
 * upload's part, is older than the grace period; another writer's never goes here.
 */
function judgeFailedRun(
  failed: RemoteBackup,
  settings: RemoteRetentionSettings,
): { keep: KeepReason; detail: string } | { delete: DeleteReason; detail: string } {
  if (settings.foreignRuns?.has(failed.dir) === true)
    return { keep: 'another-writer', detail: 'no manifest, and its writer.json names another host: its run, which may still be uploading' };
  if (settings.resumableRuns?.has(failed.dir) === true)
    return {
      keep: 'resumable',
      detail: 'no manifest: an interrupted backup that the next backup run resumes (a resume record within s3.resume_max_age_hours)',
    };
  const now = settings.now.getTime();
  const objectAge = now - failed.newestObjectAt.getTime();
  const uploadAt = settings.uploadActivity?.get(failed.dir);
  const uploadAge = uploadAt === undefined ? undefined : now - uploadAt.getTime();
  const age = Math.min(objectAge, uploadAge ?? objectAge);
  const grace = `the ${settings.graceHours} h grace period (s3.prune_grace_hours)`;
  const detail =
    `no manifest (a failed or killed run); its newest object is ${hours(objectAge)} old` +
    (uploadAge === undefined ? '' : `, and an upload still open in it last received a part ${hours(uploadAge)} ago`);
  if (age > settings.graceHours * HOUR_MS) return { delete: 'failed-run', detail: `${detail}, past ${grace}` };
  return { keep: 'within-grace', detail: `${detail}, within ${grace}` };
}

/**
 * Keeps the newest `retainGenerations` generations rooted at a full and every
 * generation reachable from current.json (even if that keeps more); deletes older
 * generations whole, and failed runs' directories once their newest object (and the
 * newest part of an upload still open in them) is older than the grace period. Never deletes a directory reachable from current.json, and
 * deletes no generation while current.json's chain cannot be followed to a full.
 */
export function planRemoteRetention(inventory: RemoteInventory, settings: RemoteRetentionSettings): RemoteRetentionPlan {
  if (!Number.isInteger(settings.retainGenerations) || settings.retainGenerations < 1)
    throw new RangeError(`retainGenerations must be a positive integer, got ${settings.retainGenerations}`);
  if (!(settings.graceHours > 0)) throw new RangeError(`graceHours must be greater than 0, got ${settings.graceHours}`);
  const keep: RetentionEntry<KeepReason>[] = [];
  const remove: RetentionEntry<DeleteReason>[] = [];
  const retained = inventory.generations.filter((generation) => generation.rootState === 'full').slice(0, settings.retainGenerations);
  for (const generation of inventory.generations) {
    const verdict = judgeGeneration(inventory, generation, retained, settings);
    if ('keep' in verdict) keep.push(entry('generation', generation.root, generation.backups, verdict.keep, verdict.detail));
    else remove.push(entry('generation', generation.root, generation.backups, verdict.delete, verdict.detail));
  }
  for (const failed of inventory.incomplete) {
    const verdict = judgeFailedRun(failed, settings);
    if ('keep' in verdict) keep.push(entry('incomplete', failed.dir, [failed], verdict.keep, verdict.detail));
    else remove.push(entry('incomplete', failed.dir, [failed], verdict.delete, verdict.detail));
  }
  const thawing = settings.beingRestored ?? new Set<string>();
  const held = remove.filter((item) => item.objects.some((object) => thawing.has(object.key)));
  for (const item of held) {
    const count = item.objects.filter((object) => thawing.has(object.key)).length;
    keep.push({
      ...item,
      reason: 'being-restored',
      detail: `${item.detail}; but ${count} of its object(s) have a thaw ongoing or unexpired: someone is restoring it, so it stays until the thaw expires`,
    });
  }
  remove.splice(0, remove.length, ...remove.filter((item) => !held.includes(item)));
  const doomed = remove.flatMap((item) => item.objects);
  const isManifest = (key: string) => key.endsWith('/manifest.json');
  const keys = doomed.map((object) => object.key).sort((a, b) => Number(isManifest(b)) - Number(isManifest(a)) || (a < b ? -1 : 1));
  const warnings = [
    ...(inventory.chainBreak === undefined
      ? []
      : [`the chain from current.json does not reach a full: ${inventory.chainBreak}; no generation is deleted`]),
    ...(inventory.strays.length === 0
      ? []
      : [`${inventory.strays.length} object(s) outside the backup layout are left alone (e.g. ${inventory.strays[0]?.key ?? ''})`]),
  ];
  return { subvolume: inventory.subvolume, keep, delete: remove, keys, earlyDeletions: earlyDeletions(doomed, settings.now), warnings };
}
