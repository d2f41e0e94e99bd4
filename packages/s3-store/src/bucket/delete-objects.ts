import { DeleteObjectsCommand, type DeleteObjectsCommandOutput } from '@aws-sdk/client-s3';
import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';
import { S3StoreError } from '../object-store';
import { isRetryableS3Error, type RetryOptions, withRetry } from '../retry';
import type { SendOptions } from '../upload/types';

/** The call the deletion makes. An S3Client from createS3Client satisfies it; unit tests pass a fake. */
export interface DeleteClient {
  send(command: DeleteObjectsCommand, options?: SendOptions): Promise<DeleteObjectsCommandOutput>;
}

/** S3's limit of keys per DeleteObjects request. */
export const DELETE_BATCH_SIZE = 1000;

export interface DeleteOptions extends Omit<RetryOptions, 'isRetryable'> {
  /** Called after each batch with the keys deleted so far. */
  readonly onProgress?: (deleted: number) => void;
}

export interface KeyFailure {
  readonly key: string;
  /** The version a versioned delete named. */
  readonly versionId?: string;
  readonly code: string;
  readonly message: string;
}

/** Keys that DeleteObjects reported as not deleted. Names each (the first 20 in the message). */
export class DeleteObjectsError extends BtrfsToS3Error {
  constructor(readonly failures: readonly KeyFailure[]) {
    const shown = failures
      .slice(0, 20)
      .map(
        (failure) =>
          `  s3://…/${failure.key}${failure.versionId === undefined ? '' : ` (version ${failure.versionId})`}: ${failure.code} (${failure.message})`,
      );
    const more = failures.length > 20 ? [`  ... and ${failures.length - 20} more`] : [];
    super(`S3 DeleteObjects did not delete ${failures.length} object(s):\n${[...shown, ...more].join('\n')}`, { exitCode: ExitCode.Fatal });
  }
}

/** One object, or one version of it, to delete. */
export interface ObjectRef {
  readonly key: string;
  readonly versionId?: string;
}

// Per-key errors a later request can get past, as the matching whole-request errors (retry.ts).
const TRANSIENT_KEY_CODES = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout']);

/** Some keys of a batch failed transiently; thrown inside withRetry so they are sent again. */
class TransientKeysError extends Error {
  override readonly name = 'TransientKeysError';
  constructor(readonly failures: readonly KeyFailure[]) {
    super(`${failures.length} key(s) not deleted yet`);
  }
}

function* batches<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += DELETE_BATCH_SIZE) yield items.slice(start, start + DELETE_BATCH_SIZE);
}

/** Whether a per-key error is about `ref` (a store may leave the version id out of it). */
const isAbout = (failure: KeyFailure, ref: ObjectRef) =>
  failure.key === ref.key && (failure.versionId === undefined || ref.versionId === undefined || failure.versionId === ref.versionId);

/**
 * Deletes `keys` with DeleteObjects, in order, up to 1000 per request (quiet mode:
 * the answer lists only failures). S3 answers 200 even when single keys fail, so the
 * answer's per-key errors are checked: transient ones (InternalError, SlowDown, ...)
 * are sent again with the request's backoff, others are failures. A key that does not
 * exist counts as deleted (S3's rule), so a repeated prune is harmless. In a versioned
 * bucket this only adds delete markers: deleteVersions removes data.
 *
 * Resolves with the number of keys deleted. Throws DeleteObjectsError naming every key
 * that was not deleted (after trying every batch), or S3StoreError when a whole
 * request fails after retries (the batches before it stay deleted).
 */
export async function deleteObjects(
  client: DeleteClient,
  bucket: string,
  keys: readonly string[],
  options: DeleteOptions = {},
): Promise<number> {
  const { deleted, failures } = await deleteRefs(
    client,
    bucket,
    keys.map((key) => ({ key })),
    options,
  );
  if (failures.length > 0) throw new DeleteObjectsError(failures);
  return deleted;
}

/**
 * Deletes these versions (and delete markers) for good, as deleteObjects deletes keys.
 * Versions the store refuses with AccessDenied (Object Lock's answer for a version still
 * retained, and a credential's without s3:DeleteObjectVersion) are returned as `refused`
 * for the caller to judge; any other per-version failure throws DeleteObjectsError.
 */
export async function deleteVersions(
  client: DeleteClient,
  bucket: string,
  versions: readonly ObjectRef[],
  options: DeleteOptions = {},
): Promise<{ readonly deleted: number; readonly refused: readonly KeyFailure[] }> {
  const { deleted, failures } = await deleteRefs(client, bucket, versions, options);
  const refused = failures.filter((failure) => failure.code === 'AccessDenied');
  const others = failures.filter((failure) => failure.code !== 'AccessDenied');
  if (others.length > 0) throw new DeleteObjectsError(others);
  return { deleted, refused };
}

async function deleteRefs(
  client: DeleteClient,
  bucket: string,
  refs: readonly ObjectRef[],
  options: DeleteOptions,
): Promise<{ deleted: number; failures: KeyFailure[] }> {
  const failures: KeyFailure[] = [];
  let deleted = 0;
  for (const batch of batches(refs)) {
    let pending = batch;
    try {
      await withRetry(
        async () => {
          const Objects = pending.map((ref) => ({ Key: ref.key, ...(ref.versionId === undefined ? {} : { VersionId: ref.versionId }) }));
          const command = new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects, Quiet: true } });
          const answer = await client.send(command, { abortSignal: options.signal });
          const errors = (answer.Errors ?? []).map((error): KeyFailure => ({
            key: error.Key ?? '?',
            ...(error.VersionId === undefined ? {} : { versionId: error.VersionId }),
            code: error.Code ?? 'UnknownError',
            message: error.Message ?? '',
          }));
          const transient = errors.filter((error) => TRANSIENT_KEY_CODES.has(error.code));
          failures.push(...errors.filter((error) => !TRANSIENT_KEY_CODES.has(error.code)));
          deleted += pending.length - errors.length;
          pending = pending.filter((ref) => transient.some((failure) => isAbout(failure, ref)));
          if (transient.length > 0) throw new TransientKeysError(transient);
        },
        { ...options, isRetryable: (error) => error instanceof TransientKeysError || isRetryableS3Error(error) },
      );
    } catch (error) {
      if (!(error instanceof TransientKeysError)) throw new S3StoreError('DeleteObjects', pending[0]?.key ?? '', error);
      failures.push(...error.failures);
    }
    options.onProgress?.(deleted);
  }
  return { deleted, failures };
}
