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
  readonly code: string;
  readonly message: string;
}

/** Keys that DeleteObjects reported as not deleted. Names each (the first 20 in the message). */
export class DeleteObjectsError extends BtrfsToS3Error {
  constructor(readonly failures: readonly KeyFailure[]) {
    const shown = failures.slice(0, 20).map((failure) => `  s3://…/${failure.key}: ${failure.code} (${failure.message})`);
    const more = failures.length > 20 ? [`  ... and ${failures.length - 20} more`] : [];
    super(`S3 DeleteObjects did not delete ${failures.length} object(s):\n${[...shown, ...more].join('\n')}`, { exitCode: ExitCode.Fatal });
  }
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

function* batches(keys: readonly string[]): Generator<string[]> {
  for (let start = 0; start < keys.length; start += DELETE_BATCH_SIZE) yield keys.slice(start, start + DELETE_BATCH_SIZE);
}

/**
 * Deletes `keys` with DeleteObjects, in order, up to 1000 per request (quiet mode:
 * the answer lists only failures). S3 answers 200 even when single keys fail, so the
 * answer's per-key errors are checked: transient ones (InternalError, SlowDown, ...)
 * are sent again with the request's backoff, others are failures. A key that does not
 * exist counts as deleted (S3's rule), so a repeated prune is harmless.
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
  const failures: KeyFailure[] = [];
  let deleted = 0;
  for (const batch of batches(keys)) {
    let pending = batch;
    try {
      await withRetry(
        async () => {
          const command = new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: pending.map((Key) => ({ Key })), Quiet: true } });
          const answer = await client.send(command, { abortSignal: options.signal });
          const errors = (answer.Errors ?? []).map((error): KeyFailure => ({
            key: error.Key ?? '?',
            code: error.Code ?? 'UnknownError',
            message: error.Message ?? '',
          }));
          const transient = errors.filter((error) => TRANSIENT_KEY_CODES.has(error.code));
          failures.push(...errors.filter((error) => !TRANSIENT_KEY_CODES.has(error.code)));
          deleted += pending.length - errors.length;
          pending = transient.map((error) => error.key);
          if (transient.length > 0) throw new TransientKeysError(transient);
        },
        { ...options, isRetryable: (error) => error instanceof TransientKeysError || isRetryableS3Error(error) },
      );
    } catch (error) {
      if (!(error instanceof TransientKeysError)) throw new S3StoreError('DeleteObjects', pending[0] ?? '', error);
      failures.push(...error.failures);
    }
    options.onProgress?.(deleted);
  }
  if (failures.length > 0) throw new DeleteObjectsError(failures);
  return deleted;
}
