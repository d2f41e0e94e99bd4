import { homedir } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import * as v from 'valibot';
import { duration, rate, size, wholeDuration } from './quantity';
import { GiB, MiB, S3_LIMITS } from './units';
import { DEFAULT_LOCK_PATH, defaultStateDir } from './default-paths';

/**
 * The configuration schema (SPEC section 7): the single source of config types,
 * defaults and validation rules. Every object is strict, so an unknown key is
 * reported by name. Size and duration keys also take text with units (`"128MiB"`,
 * `"72h"`; docs/configuration.md), converted before their rules run.
 */

export const STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
  'REDUCED_REDUNDANCY',
] as const;
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const VERIFY_MODES = ['full', 'sample', 'none'] as const;
export const RESTORE_TIERS = ['Standard', 'Bulk', 'Expedited'] as const;
/**
 * The AWS SDK v3's own checksums. `auto` (the default) adds none beyond what an operation
 * requires: every part already carries its SHA-256 as the signed payload hash and as
 * `x-amz-checksum-sha256`, and locked writes carry Content-MD5, so the store checks every
 * byte either way, and stores slow with the SDK's aws-chunked trailers (Ceph RGW) stay fast.
 * `when_supported` and `when_required` pass the SDK's modes through.
 */
export const CHECKSUM_MODES = ['auto', 'when_supported', 'when_required'] as const;
/** `aws:kms` is SSE-KMS (with `s3.sse_kms_key_id`, or the bucket's default key), for buckets whose policy requires it. */
export const SSE_MODES = ['AES256', 'aws:kms', 'none'] as const;
/** Object Lock retention modes, as written in the config (S3 spells them in upper case). */
export const OBJECT_LOCK_MODES = ['governance', 'compliance'] as const;
export const COMPRESSIONS = ['zstd', 'none'] as const;
/** An age X25519 recipient (public key): what the stock `age` CLI encrypts to. Post-quantum recipients it cannot read. */
export const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** `~` and `~/x` expand to the home directory of the user running the tool. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

/** One spelling per directory (no `.`, `..`, doubled or trailing `/`), so keys compare and name subvolumes reliably. */
export function normalizePath(path: string): string {
  const normalized = posix.normalize(path);
  return normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized;
}

const absolutePath = v.pipe(
  v.string(),
  v.transform(expandHome),
  v.check(isAbsolute, (issue) => `must be an absolute path (after ~ expansion), got ${JSON.stringify(issue.input)}`),
  v.transform(normalizePath),
);
const positiveInteger = v.pipe(
  v.number(),
  v.integer('must be a whole number'),
  v.minValue(1, (issue) => `must be greater than 0, got ${String(issue.input)}`),
);
// TOML has `inf`: an infinite cadence or wait would become an invalid date or timer later on.
const positiveNumber = v.pipe(
  v.number(),
  v.check(
    (value) => Number.isFinite(value) && value > 0,
    (issue) => `must be ${Number.isFinite(issue.input) ? '' : 'a finite number '}greater than 0, got ${String(issue.input)}`,
  ),
);
const nonEmpty = v.pipe(v.string(), v.nonEmpty('must not be empty'));
const oneOf = <const T extends readonly string[]>(values: T) =>
  v.picklist(values, (issue) => `must be one of ${values.join(', ')}, got ${JSON.stringify(issue.input)}`);

/** An S3 multipart part size: 5 MiB to 5 GiB. */
const partSize = v.pipe(
  positiveInteger,
  v.minValue(S3_LIMITS.minPartSize, (issue) => `must be at least 5 MiB (${S3_LIMITS.minPartSize}), got ${String(issue.input)}`),
  v.maxValue(S3_LIMITS.maxPartSize, (issue) => `must be at most 5 GiB (${S3_LIMITS.maxPartSize}), got ${String(issue.input)}`),
);

function isValidPartSize(bytes: number): boolean {
  return Number.isInteger(bytes) && bytes >= S3_LIMITS.minPartSize && bytes <= S3_LIMITS.maxPartSize;
}

const GlobalSchema = v.strictObject({
  log_level: v.optional(oneOf(LOG_LEVELS), 'info'),
  /** Root: /var/lib/btrfs-to-s3/state.json; anyone else: ~/.local/state/btrfs_to_s3/state.json (default-paths.ts). */
  state_path: v.optional(absolutePath, () => join(defaultStateDir(), 'state.json')),
  /** In a root-only runtime directory (made 0700): not persistent state, and no other user can plant a lock. */
  lock_path: v.optional(absolutePath, DEFAULT_LOCK_PATH),
  spool_dir: v.optional(absolutePath, '/var/tmp/btrfs_to_s3/spool'),
  spool_size_bytes: v.optional(size(positiveInteger), 200 * GiB),
  /** Per-run metrics as JSON, rewritten after every backup run. */
  metrics_path: v.optional(absolutePath, () => join(defaultStateDir(), 'metrics.json')),
  /** Prometheus textfile for node_exporter's textfile collector; off when unset. */
  prometheus_textfile: v.optional(absolutePath),
  /** How often a non-terminal run logs upload progress. */
  progress_interval_seconds: v.optional(wholeDuration('seconds', positiveInteger), 60),
});

const ScheduleSchema = v.strictObject({
  full_every_days: v.optional(duration('days', positiveNumber), 180),
  incremental_every_days: v.optional(duration('days', positiveNumber), 7),
  run_at: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^([01]\d|2[0-3]):[0-5]\d$/, (issue) => `must be 24-hour HH:MM, got ${JSON.stringify(issue.input)}`),
    ),
    '02:00',
  ),
});

const SnapshotsSchema = v.strictObject({
  base_dir: absolutePath,
  retain: v.optional(positiveInteger, 2),
});

/** The last component of a configured subvolume path names it everywhere. */
export function subvolumeName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? '';
}

/**
 * What is wrong with an `s3.endpoint` value, if anything. Only `http(s)://` URLs: the
 * output redaction recognizes user info (`user:password@`) after a scheme, so a value
 * like `user:password@host` must not pass for a URL, and no message repeats user info.
 */
function endpointProblem(value: string): string | undefined {
  const shown = JSON.stringify(value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/]*@/i, '$1[REDACTED]@'));
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a URL such as http://127.0.0.1:7480, got ${shown}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `must be an http:// or https:// URL such as http://127.0.0.1:7480, got ${shown}`;
  return undefined;
}

function duplicateNames(paths: readonly string[]): string | undefined {
  const seen = new Map<string, string>();
  for (const path of paths) {
    const name = subvolumeName(path);
    const first = seen.get(name);
    if (first !== undefined) return `${first} and ${path} share the name "${name}"; subvolume names must be unique`;
    seen.set(name, path);
  }
  return undefined;
}

const SubvolumesSchema = v.strictObject({
  paths: v.pipe(
    v.array(
      v.pipe(
        absolutePath,
        v.check((path) => subvolumeName(path) !== '', 'must end in a path component, which names the subvolume'),
      ),
    ),
    v.minLength(1, 'must list at least one subvolume'),
    v.check(
      (paths) => duplicateNames(paths) === undefined,
      (issue) => duplicateNames(issue.input) ?? '',
    ),
  ),
});

/**
 * `s3.object_lock`: chunks, manifests and writer markers are written with this retention
 * (retain-until = the write's time + `days`), and the chain current.json reaches is kept
 * locked while it stays current; the pointer itself never is. docs/object-lock.md.
 */
const ObjectLockSchema = v.strictObject({
  mode: oneOf(OBJECT_LOCK_MODES),
  // A retain-until date cannot be taken back (compliance): a century is surely a typo.
  days: v.pipe(
    positiveInteger,
    v.maxValue(36_500, (issue) => `must be at most 36500 (100 years), got ${String(issue.input)}`),
  ),
});

const S3Schema = v.strictObject({
  bucket: v.pipe(
    v.string(),
    v.regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      (issue) => `must be a valid bucket name (3-63 lowercase letters, digits, dots, hyphens), got ${JSON.stringify(issue.input)}`,
    ),
  ),
  region: nonEmpty,
  prefix: v.pipe(
    v.string(),
    v.transform((prefix) => prefix.replace(/^\/+|\/+$/g, '')),
    v.nonEmpty('must not be empty'),
  ),
  endpoint: v.optional(
    v.pipe(
      v.string(),
      v.check(
        (value) => endpointProblem(value) === undefined,
        (issue) => endpointProblem(issue.input) ?? '',
      ),
    ),
  ),
  path_style: v.optional(v.boolean(), false),
  checksum_mode: v.optional(oneOf(CHECKSUM_MODES), 'auto'),
  chunk_size_bytes: v.optional(size(positiveInteger), 200 * GiB),
  part_size_bytes: v.optional(size(partSize), 128 * MiB),
  max_object_size_bytes: v.optional(size(positiveInteger), S3_LIMITS.defaultMaxObjectSize),
  /**
   * A cap on the upload rate of a backup's chunks, in bytes per second (`"50Mbit"`), so a
   * multi-day full leaves a home uplink usable. Unset: as fast as the link goes.
   */
  max_upload_rate: v.optional(
    rate(
      v.pipe(
        v.number(),
        v.check(
          (value) => Number.isFinite(value) && value >= 64 * 1024,
          (issue) => `must be at least 64KiB/s (524kbit), got ${String(issue.input)} bytes per second`,
        ),
      ),
    ),
  ),
  storage_class_chunks: v.optional(oneOf(STORAGE_CLASSES), 'DEEP_ARCHIVE'),
  /** Manifests and current.json are read by every backup's recovery, list and restore: never an archive class. */
  storage_class_manifest: v.optional(
    v.pipe(
      oneOf(STORAGE_CLASSES),
      v.check(
        (storageClass) => storageClass !== 'GLACIER' && storageClass !== 'DEEP_ARCHIVE',
        (issue) =>
          `must be readable without a thaw (manifests and current.json are read by list, restore and every backup's recovery), got ${JSON.stringify(issue.input)}; use STANDARD or STANDARD_IA`,
      ),
    ),
    'STANDARD',
  ),
  concurrency: v.optional(v.pipe(positiveInteger, v.maxValue(64, 'must be at most 64')), 4),
  spool_enabled: v.optional(v.boolean(), false),
  sse: v.optional(oneOf(SSE_MODES), 'AES256'),
  /** The KMS key (id, alias or ARN) of `sse = "aws:kms"`; absent, the bucket's default KMS key. */
  sse_kms_key_id: v.optional(nonEmpty),
  object_lock: v.optional(ObjectLockSchema),
  /** Each chunk's slice of the send stream is compressed (a zstd frame sequence) before any encryption. */
  compression: v.optional(oneOf(COMPRESSIONS), 'none'),
  /** zstd's level: 1-19 (3 is zstd's default), or -1 to -7 for its fast modes. */
  compression_level: v.optional(
    v.pipe(
      v.number(),
      v.integer('must be a whole number'),
      v.check(
        (level) => level !== 0 && level >= -7 && level <= 19,
        (issue) => `must be 1 to 19, or -1 to -7 for zstd's fast modes, got ${String(issue.input)}`,
      ),
    ),
    3,
  ),
  retain_generations: v.optional(positiveInteger, 1),
  /** Prune the bucket (docs/operations.md) at the end of every successful backup. */
  prune_after_backup: v.optional(v.boolean(), true),
  /** A failed run's chunks (no manifest) are pruned only once their newest object is older than this. */
  prune_grace_hours: v.optional(duration('hours', positiveNumber), 24),
  /** Incomplete multipart uploads under the prefix older than this are aborted at the start of a backup. */
  stale_upload_age_hours: v.optional(
    duration(
      'hours',
      v.pipe(
        v.number(),
        v.check(
          (value) => Number.isFinite(value) && value >= 0,
          (issue) => `must be ${Number.isFinite(issue.input) ? '' : 'a finite number '}0 or more, got ${String(issue.input)}`,
        ),
      ),
    ),
    24,
  ),
  /**
   * An interrupted backup's snapshot, completed chunks and open upload are kept for the
   * next run to resume (docs/failure-model.md) until this long after its last progress;
   * then they are cleaned up like any failed run's.
   */
  resume_max_age_hours: v.optional(duration('hours', positiveNumber), 168),
  /** A request that sends and receives nothing for this long fails (and is retried): a hung store must not hang the run. */
  request_timeout_seconds: v.optional(duration('seconds', positiveNumber), 120),
  /** Opening a connection to the endpoint fails (and is retried) after this long. */
  connect_timeout_seconds: v.optional(duration('seconds', positiveNumber), 10),
  /** Attempts of every S3 call, the first included; then the part (or the run) fails. */
  retry_attempts: v.optional(v.pipe(positiveInteger, v.maxValue(100, 'must be at most 100')), 5),
  /** Backoff before the k-th retry: a random wait up to min(cap, base x 2^k) (full jitter). */
  retry_base_seconds: v.optional(duration('seconds', positiveNumber), 1),
  retry_cap_seconds: v.optional(duration('seconds', positiveNumber), 30),
});

const RestoreSchema = v.strictObject({
  target_base_dir: v.optional(absolutePath),
  verify_mode: v.optional(oneOf(VERIFY_MODES), 'full'),
  sample_max_files: v.optional(positiveInteger, 1000),
  wait_for_restore: v.optional(v.boolean(), true),
  restore_timeout_seconds: v.optional(wholeDuration('seconds', positiveInteger), 72 * 3600),
  restore_tier: v.optional(oneOf(RESTORE_TIERS), 'Standard'),
  /** First wait between checks of a thaw; later waits grow to 15 times this. */
  thaw_poll_seconds: v.optional(duration('seconds', positiveNumber), 60),
  /**
   * The largest part a download holds (each is verified whole, two at a time): a manifest
   * with larger parts is refused before any download, so the bucket cannot size our memory.
   * s3.part_size_bytes, when larger, raises it: a host restores what its current part size made.
   */
  max_part_size_bytes: v.optional(size(partSize), 512 * MiB),
});

/**
 * Client-side encryption with age (docs/format.md): the backing-up host needs only the
 * recipients (public keys); the identity (private key) only restores, drills and
 * content checks read, and may live elsewhere.
 */
const EncryptionSchema = v.strictObject({
  recipients: v.optional(
    v.pipe(
      v.array(
        v.pipe(
          v.string(),
          v.regex(
            AGE_RECIPIENT,
            (issue) =>
              `must be an age X25519 recipient (age1 and 58 more characters; \`btrfs-to-s3 key generate\` makes one), got ${JSON.stringify(issue.input)}`,
          ),
        ),
      ),
      v.check((list) => new Set(list).size === list.length, 'must not list a recipient twice'),
    ),
    [],
  ),
  identity_file: v.optional(absolutePath),
});

const DrillSchema = v.strictObject({
  /** Where `drill` receives its test restores (on Btrfs); `--scratch` overrides it, and the drill timer needs it. */
  scratch_dir: v.optional(absolutePath),
});

/**
 * Storage prices per GiB-month (AWS bills a "GB-month" of 2^30 bytes) by storage class:
 * AWS S3 us-east-1 list prices in USD, for `btrfs_to_s3_estimated_monthly_cost`. Another
 * store or region sets its own in `[prices]`, with its `currency`.
 */
export const DEFAULT_PRICES = {
  standard: 0.023,
  standard_ia: 0.0125,
  onezone_ia: 0.01,
  /** Its frequent-access tier: what it costs before objects move down. */
  intelligent_tiering: 0.023,
  glacier_ir: 0.004,
  glacier: 0.0036,
  deep_archive: 0.00099,
  /** No longer listed; its last list price. */
  reduced_redundancy: 0.024,
} as const satisfies Record<Lowercase<(typeof STORAGE_CLASSES)[number]>, number>;

const price = v.pipe(
  v.number(),
  v.check(
    (value) => Number.isFinite(value) && value >= 0,
    (issue) => `must be a price per GiB-month, 0 or more, got ${String(issue.input)}`,
  ),
);

const PricesSchema = v.strictObject({
  currency: v.optional(nonEmpty, 'USD'),
  ...(Object.fromEntries(Object.entries(DEFAULT_PRICES).map(([key, value]) => [key, v.optional(price, value)])) as {
    [K in keyof typeof DEFAULT_PRICES]: v.OptionalSchema<typeof price, number>;
  }),
});

/** The sections of the config file, by name; env overrides and docs walk this. */
export const CONFIG_SECTIONS = {
  global: GlobalSchema,
  schedule: ScheduleSchema,
  snapshots: SnapshotsSchema,
  subvolumes: SubvolumesSchema,
  s3: S3Schema,
  encryption: EncryptionSchema,
  restore: RestoreSchema,
  drill: DrillSchema,
  prices: PricesSchema,
} as const;

/**
 * What `restore`, `list` and `verify` need: the S3 location (and the optional
 * `global` and `restore` keys). A host with nothing to back up (a new machine after
 * a disaster) has no `[snapshots]` or `[subvolumes]`; when they are present they are
 * read (list and verify start from the configured subvolumes), not required.
 */
export const RemoteConfigSchema = v.strictObject({
  global: v.optional(GlobalSchema, {}),
  schedule: v.optional(ScheduleSchema, {}),
  snapshots: v.optional(SnapshotsSchema),
  subvolumes: v.optional(SubvolumesSchema),
  s3: S3Schema,
  encryption: v.optional(EncryptionSchema, {}),
  restore: v.optional(RestoreSchema, {}),
  drill: v.optional(DrillSchema, {}),
  prices: v.optional(PricesSchema, {}),
});

/** Everything a backup needs; every command but `restore`, `list` and `verify` reads this. */
export const ConfigSchema = v.pipe(
  v.strictObject({
    global: v.optional(GlobalSchema, {}),
    schedule: v.optional(ScheduleSchema, {}),
    snapshots: SnapshotsSchema,
    subvolumes: SubvolumesSchema,
    s3: S3Schema,
    encryption: v.optional(EncryptionSchema, {}),
    restore: v.optional(RestoreSchema, {}),
    drill: v.optional(DrillSchema, {}),
    prices: v.optional(PricesSchema, {}),
  }),
  // Cross-key rules run whenever the keys they read are themselves valid, so they
  // are reported together with every other problem.
  v.forward(
    v.partialCheck(
      [
        ['subvolumes', 'paths'],
        ['snapshots', 'base_dir'],
      ],
      (config) => !config.subvolumes.paths.includes(config.snapshots.base_dir),
      'must not be one of subvolumes.paths',
    ),
    ['snapshots', 'base_dir'],
  ),
  v.forward(
    v.partialCheck(
      [
        ['s3', 'chunk_size_bytes'],
        ['s3', 'part_size_bytes'],
      ],
      // An out-of-range part size is reported on its own key; do not pile a second error on it.
      (config) =>
        !isValidPartSize(config.s3.part_size_bytes) ||
        Math.ceil(config.s3.chunk_size_bytes / config.s3.part_size_bytes) <= S3_LIMITS.maxParts,
      `needs more than ${S3_LIMITS.maxParts} parts of s3.part_size_bytes per chunk; raise s3.part_size_bytes or lower s3.chunk_size_bytes`,
    ),
    ['s3', 'chunk_size_bytes'],
  ),
  v.forward(
    v.partialCheck(
      [
        ['s3', 'chunk_size_bytes'],
        ['s3', 'max_object_size_bytes'],
      ],
      (config) => config.s3.chunk_size_bytes <= config.s3.max_object_size_bytes,
      'must not exceed s3.max_object_size_bytes',
    ),
    ['s3', 'chunk_size_bytes'],
  ),
  v.forward(
    v.partialCheck(
      [
        ['s3', 'sse'],
        ['s3', 'sse_kms_key_id'],
      ],
      (config) => config.s3.sse_kms_key_id === undefined || config.s3.sse === 'aws:kms',
      'is set, but a KMS key applies only with s3.sse = "aws:kms"; set that, or remove this key',
    ),
    ['s3', 'sse_kms_key_id'],
  ),
);

/** The validated configuration, with defaults applied and paths expanded. */
export type Config = v.InferOutput<typeof ConfigSchema>;
/** The configuration as written in TOML (optional keys may be absent). */
export type ConfigInput = v.InferInput<typeof ConfigSchema>;
/** The validated S3-only configuration; a Config is one too. */
export type RemoteConfig = v.InferOutput<typeof RemoteConfigSchema>;
