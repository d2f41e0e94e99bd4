import { VERIFY_MODES } from '@org/btrfs-s3-core';
import * as v from 'valibot';

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const mode = v.picklist(VERIFY_MODES);

/** What runRestore returns, and what `restore --json` prints. */
export const RestoreResultSchema = v.strictObject({
  subvolume: v.string(),
  target: v.string(),
  /** Oldest first: the full, then each incremental. */
  chain: v.array(v.strictObject({ manifestKey: v.string(), kind: v.picklist(['full', 'inc']), snapshot: v.string(), bytes: count })),
  /** The restored snapshot: the last of the chain. */
  snapshotPath: v.string(),
  /** Equal to the backed-up snapshot's UUID (checked). */
  receivedUuid: v.string(),
  /** The tree comparison against the source snapshot, or why there was none. */
  verification: v.union([
    v.strictObject({
      mode,
      source: v.string(),
      compared: count,
      differences: v.array(v.strictObject({ path: v.string(), what: v.string() })),
    }),
    v.strictObject({ mode, skipped: v.string() }),
  ]),
  /** The send streams' bytes received, summed over the chain. */
  bytes: count,
  elapsedSeconds: v.pipe(v.number(), v.minValue(0)),
});

export type RestoreResult = v.InferOutput<typeof RestoreResultSchema>;

/** What planRestore returns, and what `restore --dry-run --json` prints: the restore it would run, priced, after the preflight passed. */
export const RestorePlanSchema = v.strictObject({
  subvolume: v.string(),
  target: v.string(),
  /** Oldest first: the full, then each incremental. */
  chain: v.array(
    v.strictObject({
      manifestKey: v.string(),
      kind: v.picklist(['full', 'inc']),
      snapshot: v.string(),
      createdAt: v.pipe(v.string(), v.isoTimestamp()),
      bytes: count,
      chunks: count,
      storageClass: v.string(),
    }),
  ),
  /** The send streams' bytes: what `btrfs receive` writes. */
  bytes: count,
  /** Free bytes on the target's filesystem, and whether the space rule was applied (`--skip-space-check` waives it). */
  freeBytes: count,
  spaceChecked: v.boolean(),
  /** The programs the restore would run; each was found. */
  tools: v.array(v.string()),
  /** Chunk objects to download, and those in an archive class that a restore thaws first (paid per GiB and per request). */
  objects: count,
  archivedObjects: count,
  archivedBytes: count,
  /** The thaw's estimated retrieval fee per storage class and tier, in USD, from the documented price table. */
  thaw: v.array(v.strictObject({ storageClass: v.string(), tier: v.string(), usd: v.number(), typically: v.string() })),
  /** The tier a restore would request (`restore.restore_tier`). */
  tier: v.string(),
});

export type RestorePlan = v.InferOutput<typeof RestorePlanSchema>;

/** What runRestoreToStream returns: the chain whose streams were written, in order. */
export const RestoreStreamResultSchema = v.strictObject({
  subvolume: v.string(),
  chain: RestoreResultSchema.entries.chain,
  bytes: count,
  elapsedSeconds: v.pipe(v.number(), v.minValue(0)),
});

export type RestoreStreamResult = v.InferOutput<typeof RestoreStreamResultSchema>;
