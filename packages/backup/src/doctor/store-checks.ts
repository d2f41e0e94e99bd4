import type { S3Client, StorageClass } from '@aws-sdk/client-s3';
import { compactTimestamp, type Config, type Writer } from '@org/btrfs-s3-core';
import { type BucketSettings, describeS3Error, isAccessDenied, type ListingProbe, objectLockProblem, S3Bucket } from '@org/btrfs-s3-store';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { type DoctorCheck, fail, ok, skipped, warn } from './report';

/** Where doctor writes its probes: beside `subvol/`, never read by list, restore or prune. */
export const doctorPrefix = (prefix: string) => `${prefix}/doctor/`;

/** Local clock against the store's: past these, a warning, then a failure. */
const CLOCK_WARN_SECONDS = 60;
/** S3 refuses requests signed more than 15 minutes off. */
const CLOCK_FAIL_SECONDS = 15 * 60;

interface StoreContext {
  readonly config: Config;
  readonly client: S3Client;
  readonly signal: AbortSignal;
  readonly writer: Writer;
  readonly now: () => Date;
}

/** What a probe write uses: the config's choice, or one setting changed to tell which one the store refused. */
interface WriteSettings {
  readonly storageClass: StorageClass;
  readonly sse: Config['s3']['sse'];
  /** A manifest's `If-None-Match: *` (the default); false only to tell a store that refuses it. */
  readonly conditional?: boolean;
}

type ProbeKind = 'manifest' | 'chunk';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Listing (credentials, bucket, clock), then a manifest-class object and a chunk written
 * the way a backup writes them (same SSE, storage class, checksum mode, conditional PUT
 * and multipart upload), read back where readable, and deleted; then versioning and
 * Object Lock. A refused write is retried with one setting changed to name the cause.
 */
export async function storeChecks(context: StoreContext): Promise<DoctorCheck[]> {
  const { config } = context;
  const bucket = bucketWith(context, config.s3.sse);
  let probe: ListingProbe;
  try {
    probe = await bucket.probeListing(doctorPrefix(config.s3.prefix));
  } catch (error) {
    return [fail('bucket-access', accessProblem(config, error)), skipped('store-writes', 'not checked: the bucket could not be listed')];
  }
  const checks: DoctorCheck[] = [ok('bucket-access', `s3://${config.s3.bucket}/${config.s3.prefix}/ can be listed`), clockCheck(probe)];
  // Read first: in a versioned or locked bucket, what the probes' delete does differs.
  const settings = await bucket.readSettings();
  const dir = `${doctorPrefix(config.s3.prefix)}${context.writer.host}-${compactTimestamp(context.now())}-${randomBytes(4).toString('hex')}`;
  const written: string[] = [];
  for (const kind of ['manifest', 'chunk'] as const) {
    const settings = configured(config, kind);
    try {
      const key = await probeWrite(context, kind, dir, settings);
      written.push(key);
      checks.push(await readBack(bucket, kind, key, settings));
    } catch (error) {
      checks.push(fail(`${kind}-write`, await diagnose(context, kind, dir, settings, error, written)));
    }
  }
  checks.push(await deleteCheck(bucket, written, settings));
  checks.push(...settingsChecks(settings), ...objectLockCheck(config, settings));
  return checks;
}

/** `s3.object_lock` against what the bucket can do: the refusal a backup would meet, named before it. */
function objectLockCheck(config: Config, settings: BucketSettings): DoctorCheck[] {
  const lock = config.s3.object_lock;
  if (lock === undefined) return [];
  const problem = objectLockProblem(settings);
  if (problem !== undefined)
    return [
      fail(
        'object-lock-config',
        `s3.object_lock is set, but bucket ${config.s3.bucket} ${problem}; backups refuse to start (docs/object-lock.md)`,
      ),
    ];
  return [
    ok(
      'object-lock-config',
      `backups lock chunks, manifests and writer markers in ${lock.mode} mode for ${lock.days} day(s), and keep the current chain locked (doctor's probes are not locked)`,
    ),
  ];
}

/** Doctor's probes are written like a backup's, but never locked (a `locked` write), so it can delete them. */
function bucketWith(context: StoreContext, sse: Config['s3']['sse']): S3Bucket {
  return new S3Bucket(context.client, { ...context.config.s3, sse }, { signal: context.signal });
}

function configured(config: Config, kind: ProbeKind): WriteSettings {
  const storageClass = kind === 'chunk' ? config.s3.storage_class_chunks : config.s3.storage_class_manifest;
  return { storageClass, sse: config.s3.sse };
}

const classKey = (kind: ProbeKind) => (kind === 'chunk' ? 's3.storage_class_chunks' : 's3.storage_class_manifest');

function accessProblem(config: Config, error: unknown): string {
  const where = `s3://${config.s3.bucket}/${config.s3.prefix}/`;
  const message = messageOf(error);
  if (/credential/i.test(message))
    return `no credentials: ${message}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or use an instance role`;
  if (isAccessDenied(error)) return `listing ${where} was refused: ${message}; the credential needs s3:ListBucket on s3.bucket`;
  if (/NoSuchBucket/.test(message)) return `bucket ${config.s3.bucket} does not exist (s3.bucket, s3.region, s3.endpoint): ${message}`;
  return `listing ${where} failed: ${message} (check s3.endpoint, s3.region and the network)`;
}

function clockCheck(probe: ListingProbe): DoctorCheck {
  if (probe.serverDate === undefined) return warn('clock', "the store's answer carried no Date header: clock skew unknown");
  const midpoint = (probe.sentAt.getTime() + probe.answeredAt.getTime()) / 2;
  // The Date header has whole seconds; half the round trip is the rest of the doubt.
  const doubt = 1 + (probe.answeredAt.getTime() - probe.sentAt.getTime()) / 2000;
  const skew = (midpoint - probe.serverDate.getTime()) / 1000;
  const sure = Math.max(0, Math.abs(skew) - doubt);
  const said = `this host's clock is ${Math.abs(skew).toFixed(0)} s ${skew >= 0 ? 'ahead of' : 'behind'} the store's`;
  if (sure > CLOCK_FAIL_SECONDS) return fail('clock', `${said}: S3 refuses requests signed 15 minutes off; fix the system clock (NTP)`);
  if (sure > CLOCK_WARN_SECONDS)
    return warn('clock', `${said}: snapshot names, manifest times and prune's grace period use it; fix the system clock (NTP)`);
  return ok('clock', `within ${Math.ceil(Math.abs(skew) + doubt)} s of the store's clock`);
}

/** Writes one probe object as a backup writes its kind; resolves with its key. */
async function probeWrite(context: StoreContext, kind: ProbeKind, dir: string, settings: WriteSettings): Promise<string> {
  const bucket = bucketWith(context, settings.sse);
  if (kind === 'manifest') {
    const key = `${dir}/manifest-${settings.storageClass}-${settings.sse}${settings.conditional === false ? '-unconditional' : ''}.json`;
    const body = `${JSON.stringify({ written_by: 'btrfs-to-s3 doctor', host: context.writer.host })}\n`;
    await bucket.putObject(key, body, {
      storageClass: settings.storageClass,
      contentType: 'application/json',
      ...(settings.conditional === false ? {} : { condition: { ifNoneMatch: true } }),
    });
    return key;
  }
  const result = await bucket.uploadChunkedStream(
    {
      source: Readable.from([randomBytes(4096)]),
      keyForChunk: (index) => `${dir}/chunk-${settings.storageClass}-${settings.sse}-${index}.bin`,
      storageClass: settings.storageClass,
    },
    // A backup's small chunks are one PutObject, like the manifest probe; its large ones take this path.
    { concurrency: 1, alwaysMultipart: true },
  );
  const chunk = result.chunks[0];
  if (chunk === undefined) throw new Error('the probe upload wrote no object');
  return chunk.key;
}

/** The store keeps what it was asked to: the storage class, and for a readable object the bytes. */
async function readBack(bucket: S3Bucket, kind: ProbeKind, key: string, settings: WriteSettings): Promise<DoctorCheck> {
  const check = `${kind}-write`;
  const info = await bucket.headObject(key);
  const what = `${kind === 'chunk' ? 'a multipart chunk' : 'a conditional PUT'} with storage class ${settings.storageClass} and SSE ${settings.sse}`;
  if (info.storageClass !== settings.storageClass)
    return warn(
      check,
      `${what} was accepted, but the store reports storage class ${info.storageClass}: ${classKey(kind)} is not applied (check the cost)`,
    );
  if (kind === 'manifest' && (await bucket.readTextIfExists(key)) === undefined)
    return fail(check, `${what} was accepted but cannot be read back`);
  return ok(check, `${what} was accepted${kind === 'manifest' ? ' and read back' : ''}`);
}

/**
 * The configured write was refused: the same write with the storage class set to
 * STANDARD, then with SSE off, tells which setting the store refused. Probes that got
 * through join `written`, to be deleted.
 */
async function diagnose(
  context: StoreContext,
  kind: ProbeKind,
  dir: string,
  settings: WriteSettings,
  error: unknown,
  written: string[],
): Promise<string> {
  const refused = `${kind === 'chunk' ? 'a multipart chunk' : 'a conditional PUT'} with storage class ${settings.storageClass} and SSE ${settings.sse} got ${describeS3Error(s3Cause(error))}`;
  const alsoRefused: string[] = [];
  const succeeds = async (variant: WriteSettings, what: string) => {
    try {
      written.push(await probeWrite(context, kind, dir, variant));
      return true;
    } catch (retryError) {
      alsoRefused.push(`${what}: ${describeS3Error(s3Cause(retryError))}`);
      return false;
    }
  };
  if (settings.storageClass !== 'STANDARD' && (await succeeds({ ...settings, storageClass: 'STANDARD' }, 'with STANDARD')))
    return `the store refuses storage class ${settings.storageClass} (${classKey(kind)}): ${refused}, and the same write with STANDARD was accepted`;
  if (settings.sse !== 'none' && (await succeeds({ ...settings, sse: 'none' }, 'without SSE')))
    return `the store refuses server-side encryption (s3.sse = "${settings.sse}"; "none" only for a store that encrypts at rest by itself): ${refused}, and the same write without SSE was accepted`;
  if (kind === 'manifest' && (await succeeds({ ...settings, conditional: false }, 'without If-None-Match')))
    return `the store refuses conditional writes (If-None-Match: *), which btrfs-to-s3 needs to publish without overwriting another writer's backup: ${refused}, and the same PUT without the condition was accepted`;
  const tried = alsoRefused.length === 0 ? 'no other write was tried' : `also refused ${alsoRefused.join('; ')}`;
  if (isAccessDenied(error))
    return `the credential may not write under s3.prefix (s3:PutObject, docs/iam/backup-only.json): ${refused}; ${tried}`;
  return `${refused}; ${tried} (check the credential's permissions, and s3.checksum_mode for a store without the SDK's checksums)`;
}

/** The S3 error a wrapped failure (S3StoreError, an upload error) carries, or the error itself. */
function s3Cause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 10 && current instanceof Error && !('$metadata' in current) && current.cause !== undefined; depth += 1)
    current = current.cause;
  return current;
}

async function deleteCheck(bucket: S3Bucket, keys: readonly string[], settings: BucketSettings): Promise<DoctorCheck> {
  if (keys.length === 0) return skipped('delete', 'not checked: no probe object was written');
  try {
    await bucket.deleteObjects(keys);
    const versioned = 'value' in settings.versioning && settings.versioning.value === 'Enabled';
    const locked = 'value' in settings.objectLock && settings.objectLock.value.defaultRetention !== undefined;
    return ok(
      'delete',
      versioned
        ? `the probe objects (${keys.length}) got delete markers: in this versioned bucket their versions stay stored${locked ? ', locked until the default retention ends,' : ''} until a lifecycle rule expires them`
        : `the probe objects were deleted (${keys.length})`,
    );
  } catch (error) {
    const left = `the probe objects remain: ${keys.join(', ')}`;
    return isAccessDenied(error)
      ? warn('delete', `this credential may not delete (a backup-only policy): prune needs a credential that may; ${left}`)
      : fail('delete', `deleting the probe objects failed: ${messageOf(error)}; ${left}`);
  }
}

function settingsChecks(settings: BucketSettings): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const { versioning, objectLock } = settings;
  if ('unreadable' in versioning) checks.push(warn('versioning', `could not be read: ${versioning.unreadable}`));
  else if (versioning.value === 'Enabled')
    checks.push(
      warn(
        'versioning',
        "enabled: a deleted or replaced object stays as a noncurrent version, stored and billed (prune deletes versions itself, but each replaced current.json and doctor's probes leave some); add the lifecycle rules of docs/object-lock.md",
      ),
    );
  else checks.push(ok('versioning', versioning.value === 'Off' ? 'off' : 'suspended (versions made while it was on stay)'));
  if ('unreadable' in objectLock) checks.push(warn('object-lock', `could not be read: ${objectLock.unreadable}`));
  else if (!objectLock.value.enabled) checks.push(ok('object-lock', 'not enabled: a credential that may delete can delete every backup'));
  else {
    const retention = objectLock.value.defaultRetention;
    const period =
      retention === undefined ? undefined : retention.days !== undefined ? `${retention.days} days` : `${retention.years ?? 0} years`;
    checks.push(
      ok(
        'object-lock',
        retention === undefined
          ? 'enabled, with no default retention'
          : `enabled, default ${retention.mode} retention of ${period ?? '?'}: every object, doctor's probes included, stays stored until then`,
      ),
    );
  }
  return checks;
}
