import {
  GetObjectRetentionCommand,
  type GetObjectRetentionCommandOutput,
  PutObjectRetentionCommand,
  type PutObjectRetentionCommandOutput,
} from '@aws-sdk/client-s3';
import { BtrfsToS3Error, ExitCode, mapBounded } from '@org/btrfs-s3-core';
import type { BucketSettings } from '../bucket/bucket-settings';
import { S3StoreError } from '../object-store';
import { type RetryOptions, withRetry } from '../retry';
import { isS3Error } from '../s3-errors';
import type { SendOptions } from '../upload/types';
import { type ObjectLockConfig, type Retention, retentionFor } from './retention';

/** The calls that read and set an object version's retention. An S3Client satisfies it; unit tests pass a fake. */
export interface RetentionClient {
  send(command: GetObjectRetentionCommand, options?: SendOptions): Promise<GetObjectRetentionCommandOutput>;
  send(command: PutObjectRetentionCommand, options?: SendOptions): Promise<PutObjectRetentionCommandOutput>;
}

/**
 * `s3.object_lock` is set, but the bucket cannot hold locked objects (or the credential
 * may not read whether it can). One line naming the key and what is missing; exit 2, as
 * for any configuration that cannot work: nothing was written.
 */
export class ObjectLockUnavailableError extends BtrfsToS3Error {
  constructor(bucket: string, lacks: string) {
    super(
      `s3.object_lock: bucket ${bucket} ${lacks}; Object Lock needs a bucket created with it (docs/object-lock.md), or remove s3.object_lock`,
      { exitCode: ExitCode.Usage },
    );
  }
}

/**
 * What the bucket lacks for Object Lock, or undefined when it has it: Object Lock enabled,
 * and versioning on (S3 turns it on with Object Lock and will not suspend it; a store
 * might). A setting the credential may not read counts as lacking: the retention it
 * asks for could not be promised.
 */
export function objectLockProblem(settings: BucketSettings): string | undefined {
  const lacks: string[] = [];
  if ('unreadable' in settings.objectLock)
    lacks.push(
      `Object Lock could not be read (${settings.objectLock.unreadable}; the credential needs s3:GetBucketObjectLockConfiguration)`,
    );
  else if (!settings.objectLock.value.enabled) lacks.push('has no Object Lock');
  if ('unreadable' in settings.versioning)
    lacks.push(`versioning could not be read (${settings.versioning.unreadable}; the credential needs s3:GetBucketVersioning)`);
  else if (settings.versioning.value !== 'Enabled') lacks.push(`has versioning ${settings.versioning.value.toLowerCase()}, not enabled`);
  return lacks.length === 0 ? undefined : lacks.join(', and ');
}

/** What extendRetention did. */
export interface RetentionExtension {
  /** Objects whose retention was read. */
  readonly checked: number;
  /** Objects whose retention was extended (PutObjectRetention); the others already lasted long enough. */
  readonly extended: number;
}

/**
 * Keeps each of `keys` (their current versions) locked until `days` after `now`, as a
 * write made now would be: reads each retention (GetObjectRetention) and sets it only
 * where it ends sooner, so objects written in this run cost one read and no write.
 * Four at a time. Throws S3StoreError naming the first object that failed.
 */
export async function extendRetention(
  client: RetentionClient,
  bucket: string,
  keys: readonly string[],
  lock: ObjectLockConfig,
  now: Date,
  options: RetryOptions = {},
): Promise<RetentionExtension> {
  const wanted = retentionFor(lock, now);
  const changed = await mapBounded(keys, 4, async (key) => {
    const current = await readRetention(client, bucket, key, undefined, options);
    return ensureRetention(client, bucket, key, current, wanted, options);
  });
  return { checked: keys.length, extended: changed.filter(Boolean).length };
}

/**
 * An object version's retention, or undefined when it has none. S3 answers a version
 * without retention with 404 NoSuchObjectLockConfiguration, Ceph RGW with 404
 * ObjectLockConfigurationNotFoundError. Throws S3StoreError for anything else.
 */
export async function readRetention(
  client: RetentionClient,
  bucket: string,
  key: string,
  versionId: string | undefined,
  options: RetryOptions = {},
): Promise<Retention | undefined> {
  const input = { Bucket: bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }) };
  try {
    const { Retention: found } = await withRetry(
      () => client.send(new GetObjectRetentionCommand(input), { abortSignal: options.signal }),
      options,
    );
    if (found?.Mode === undefined || found.RetainUntilDate === undefined) return undefined;
    return { mode: found.Mode, retainUntil: found.RetainUntilDate };
  } catch (error) {
    if (isS3Error(error, 'NoSuchObjectLockConfiguration', 'ObjectLockConfigurationNotFoundError')) return undefined;
    throw new S3StoreError('GetObjectRetention', key, error);
  }
}

/**
 * Sets the current version's retention to `wanted` unless it already lasts at least as
 * long; never asks for a shorter one (a store refuses that, or in governance mode would
 * need a bypass this tool never sends). A compliance lock stays compliance: S3 refuses
 * weakening it to governance. Resolves with whether a PutObjectRetention was sent.
 * PutObjectRetention needs a Content-MD5 or checksum header; the SDK adds one for it.
 */
export async function ensureRetention(
  client: RetentionClient,
  bucket: string,
  key: string,
  current: Retention | undefined,
  wanted: Retention,
  options: RetryOptions = {},
): Promise<boolean> {
  if (current !== undefined && current.retainUntil.getTime() >= wanted.retainUntil.getTime()) return false;
  const mode = current?.mode === 'COMPLIANCE' ? 'COMPLIANCE' : wanted.mode;
  const command = new PutObjectRetentionCommand({
    Bucket: bucket,
    Key: key,
    Retention: { Mode: mode, RetainUntilDate: wanted.retainUntil },
  });
  try {
    await withRetry(() => client.send(command, { abortSignal: options.signal }), options);
  } catch (error) {
    throw new S3StoreError('PutObjectRetention', key, error);
  }
  return true;
}
