import * as v from 'valibot';

/**
 * The results of runList, runVerify and runPrune: their types are inferred from
 * these schemas, the CLI's `--json` prints them, its tests parse stdout with them,
 * and docs/schema/*-output.schema.json is generated from them. Documented in
 * docs/operations.md. Times are ISO-8601 UTC.
 */

// Strict objects: a field the schema does not describe fails the tests, so the schema and docs keep up.
const isoTime = v.pipe(v.string(), v.isoTimestamp());
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const kind = v.picklist(['full', 'inc']);

// ---- list -----------------------------------------------------------------------

export const ListedBackupSchema = v.strictObject({
  dir: v.string(),
  manifestKey: v.string(),
  kind,
  /** `complete`: its manifest parses; `broken`: its manifest cannot be used (see `problem`); `incomplete`: no manifest. */
  state: v.picklist(['complete', 'broken', 'incomplete']),
  createdAt: isoTime,
  /** From the manifest; null when it cannot be read. */
  totalBytes: v.nullable(count),
  chunks: v.nullable(count),
  storageClass: v.nullable(v.string()),
  parentManifest: v.nullable(v.string()),
  /** What the bucket holds under the directory. */
  objects: count,
  storedBytes: count,
  /** current.json points to it. */
  current: v.boolean(),
  /** On the chain from current.json to its full. */
  reachable: v.boolean(),
  problem: v.nullable(v.string()),
});

export const ListedGenerationSchema = v.strictObject({
  root: v.string(),
  rootState: v.picklist(['full', 'broken', 'incomplete', 'missing']),
  createdAt: isoTime,
  current: v.boolean(),
  /** Oldest first. */
  backups: v.array(ListedBackupSchema),
});

export const IncompleteBackupSchema = v.strictObject({
  dir: v.string(),
  kind,
  objects: count,
  bytes: count,
  newestObjectAt: isoTime,
  ageHours: v.number(),
});

export const ListedSubvolumeSchema = v.strictObject({
  subvolume: v.string(),
  /** False for a subvolume found under `<prefix>/subvol/` that the config does not name. */
  configured: v.boolean(),
  current: v.nullable(v.strictObject({ manifestKey: v.string(), kind, createdAt: isoTime })),
  /** Why current.json or its chain cannot be followed to a full; null when it can (or there is none). */
  chainBreak: v.nullable(v.string()),
  /** Newest first. */
  generations: v.array(ListedGenerationSchema),
  /** The backups a restore can start from (complete, on a chain that reaches a full), oldest first: what `restore --at` picks among. */
  restorablePoints: v.array(v.strictObject({ createdAt: isoTime, kind, manifestKey: v.string() })),
  /** Chunks without a manifest that nothing refers to: failed or killed runs. */
  incomplete: v.array(IncompleteBackupSchema),
  /** Keys under the subvolume outside the layout; left alone. */
  otherKeys: v.array(v.string()),
});

export const ListResultSchema = v.strictObject({
  bucket: v.string(),
  prefix: v.string(),
  subvolumes: v.array(ListedSubvolumeSchema),
});

// ---- verify ---------------------------------------------------------------------

export const VerifyProblemSchema = v.strictObject({
  /** The object or manifest concerned. */
  key: v.string(),
  problem: v.picklist(['no-backup', 'chain', 'missing', 'size', 'hash', 'stream', 'unreadable']),
  message: v.string(),
  expected: v.nullable(v.string()),
  actual: v.nullable(v.string()),
});

export const VerifySubvolumeSchema = v.strictObject({
  subvolume: v.string(),
  ok: v.boolean(),
  /** What current.json points to; null when it cannot be read. */
  currentManifest: v.nullable(v.string()),
  /** Oldest first: the full, then each incremental. */
  chain: v.array(
    v.strictObject({ manifestKey: v.string(), kind, createdAt: isoTime, chunks: count, read: count, skipped: count, damaged: count }),
  ),
  /** Chunks found with the recorded size (HeadObject), re-hashed, and skipped (archived, not thawed). */
  chunks: v.strictObject({ total: count, present: count, read: count, skipped: count }),
  /** Backups whose whole stream was re-hashed and matched `restore.stream_sha256`. */
  streamsVerified: count,
  problems: v.array(VerifyProblemSchema),
  skipped: v.array(v.strictObject({ key: v.string(), storageClass: v.string(), reason: v.string() })),
});

export const VerifyReportSchema = v.strictObject({
  ok: v.boolean(),
  reads: v.picklist(['none', 'all', 'sample']),
  /** Chunks re-downloaded per manifest with `--sample`. */
  sample: v.nullable(count),
  subvolumes: v.array(VerifySubvolumeSchema),
});

// ---- prune ----------------------------------------------------------------------

const PruneEntrySchema = <R extends readonly [string, ...string[]]>(reasons: R) =>
  v.strictObject({
    what: v.picklist(['generation', 'incomplete']),
    dir: v.string(),
    dirs: v.array(v.string()),
    reason: v.picklist(reasons),
    detail: v.string(),
    objects: count,
    bytes: count,
  });

export const PruneSubvolumeSchema = v.strictObject({
  subvolume: v.string(),
  keep: v.array(
    PruneEntrySchema([
      'current',
      'retained',
      'newer-than-retained',
      'current-chain-broken',
      'within-grace',
      'being-restored',
      'another-writer',
      'resumable',
    ] as const),
  ),
  delete: v.array(PruneEntrySchema(['old-generation', 'failed-run'] as const)),
  /** 0 with `--dry-run`. */
  deletedObjects: count,
  deletedBytes: count,
  /** Objects deleted (or, with --dry-run, to be deleted) inside their class's minimum storage duration. */
  earlyDeletions: v.array(v.strictObject({ storageClass: v.string(), minimumDays: count, objects: count, bytes: count })),
  warnings: v.array(v.string()),
  /** The points `restore --at` can still reach after this prune (or, with --dry-run, would), oldest first. */
  restorablePointsLeft: v.array(isoTime),
  /**
   * In a versioned bucket: object versions of what this prune deleted that Object Lock
   * still retains, left in place (not a failure), and when the first of them unlocks; a
   * later prune deletes them. Zero and null otherwise, and with --dry-run.
   */
  locked: v.strictObject({ versions: count, bytes: count, soonestRetainUntil: v.nullable(isoTime) }),
});

export const PruneResultSchema = v.strictObject({
  dryRun: v.boolean(),
  subvolumes: v.array(PruneSubvolumeSchema),
});

export type ListResult = v.InferOutput<typeof ListResultSchema>;
export type ListedSubvolume = v.InferOutput<typeof ListedSubvolumeSchema>;
export type ListedBackup = v.InferOutput<typeof ListedBackupSchema>;
export type VerifyReport = v.InferOutput<typeof VerifyReportSchema>;
export type VerifySubvolume = v.InferOutput<typeof VerifySubvolumeSchema>;
export type VerifyProblem = v.InferOutput<typeof VerifyProblemSchema>;
export type PruneResult = v.InferOutput<typeof PruneResultSchema>;
export type PruneSubvolume = v.InferOutput<typeof PruneSubvolumeSchema>;
