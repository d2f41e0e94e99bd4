import * as v from 'valibot';

/**
 * The `--json` output of `list`, `status`, `verify` and `prune`: the commands' result
 * types are inferred from these schemas, the integration tests parse the CLI's stdout
 * with them, and docs/schema/cli-*.schema.json is generated from them (a test fails
 * when the files drift). Documented in docs/operations.md. Times are ISO-8601 UTC.
 */

// Strict objects: an output field the schema does not describe fails the tests, so the schema and docs keep up.
const isoTime = v.pipe(v.string(), v.isoTimestamp());
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const kind = v.picklist(['full', 'inc']);

/** What every failing command prints with `--json` (BaseCommand.toErrorJson). */
export const ErrorOutputSchema = v.object({
  error: v.object({
    name: v.string(),
    message: v.string(),
    exitCode: v.pipe(v.number(), v.integer()),
    issues: v.optional(v.array(v.object({ key: v.string(), message: v.string() }))),
  }),
});

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
  /** Chunks without a manifest that nothing refers to: failed or killed runs. */
  incomplete: v.array(IncompleteBackupSchema),
  /** Keys under the subvolume outside the layout; left alone. */
  otherKeys: v.array(v.string()),
});

export const ListOutputSchema = v.strictObject({
  bucket: v.string(),
  prefix: v.string(),
  subvolumes: v.array(ListedSubvolumeSchema),
});

// ---- status ---------------------------------------------------------------------

export const LastRunSchema = v.strictObject({
  /** When the run that last handled this subvolume finished (global.metrics_path). */
  finishedAt: isoTime,
  result: v.picklist(['published', 'snapshot-only', 'not-due', 'failed']),
  kind: v.nullable(v.picklist(['full', 'inc', 'none'])),
  bytes: v.nullable(count),
  chunks: v.nullable(count),
  parts: v.nullable(count),
  retries: v.nullable(count),
  elapsedSeconds: v.nullable(v.number()),
  manifestKey: v.nullable(v.string()),
  /** The failure, the reason nothing was due, or the snapshot taken without upload. */
  detail: v.nullable(v.string()),
});

export const StatusSubvolumeSchema = v.strictObject({
  subvolume: v.string(),
  path: v.string(),
  lastBackupAt: v.nullable(isoTime),
  lastKind: v.nullable(kind),
  lastSnapshot: v.nullable(v.string()),
  lastManifest: v.nullable(v.string()),
  lastFullAt: v.nullable(isoTime),
  /** Null before the first backup: a first run backs up at once. */
  nextIncrementalAt: v.nullable(isoTime),
  nextFullAt: v.nullable(isoTime),
  /** Null when no run's metrics mention the subvolume. */
  lastRun: v.nullable(LastRunSchema),
});

export const StatusOutputSchema = v.strictObject({
  lastRunAt: v.nullable(isoTime),
  lock: v.nullable(v.strictObject({ pid: v.number(), proc_start: v.nullable(v.string()), host: v.string(), started_at: v.string() })),
  subvolumes: v.array(StatusSubvolumeSchema),
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
  chain: v.array(v.strictObject({ manifestKey: v.string(), kind, createdAt: isoTime, chunks: count, read: count, skipped: count, damaged: count })),
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

/** A clean verify prints the report; one that found problems exits 1 and prints the error with the report. */
export const VerifyOutputSchema = v.union([v.strictObject({ ...VerifyReportSchema.entries, ok: v.literal(true) }), v.strictObject({ ...ErrorOutputSchema.entries, report: VerifyReportSchema })]);

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
  keep: v.array(PruneEntrySchema(['current', 'retained', 'newer-than-retained', 'current-chain-broken', 'within-grace'] as const)),
  delete: v.array(PruneEntrySchema(['old-generation', 'failed-run'] as const)),
  /** 0 with `--dry-run`. */
  deletedObjects: count,
  deletedBytes: count,
  /** Objects deleted (or, with --dry-run, to be deleted) inside their class's minimum storage duration. */
  earlyDeletions: v.array(v.strictObject({ storageClass: v.string(), minimumDays: count, objects: count, bytes: count })),
  warnings: v.array(v.string()),
});

export const PruneOutputSchema = v.strictObject({
  dryRun: v.boolean(),
  subvolumes: v.array(PruneSubvolumeSchema),
});

export type ListResult = v.InferOutput<typeof ListOutputSchema>;
export type ListedSubvolume = v.InferOutput<typeof ListedSubvolumeSchema>;
export type ListedBackup = v.InferOutput<typeof ListedBackupSchema>;
export type LastRun = v.InferOutput<typeof LastRunSchema>;
export type StatusResult = v.InferOutput<typeof StatusOutputSchema>;
export type StatusSubvolume = v.InferOutput<typeof StatusSubvolumeSchema>;
export type VerifyReport = v.InferOutput<typeof VerifyReportSchema>;
export type VerifySubvolume = v.InferOutput<typeof VerifySubvolumeSchema>;
export type VerifyProblem = v.InferOutput<typeof VerifyProblemSchema>;
export type PruneResult = v.InferOutput<typeof PruneOutputSchema>;
export type PruneSubvolume = v.InferOutput<typeof PruneSubvolumeSchema>;
