import type { S3Client } from '@aws-sdk/client-s3';
import { type Logger, type RemoteConfig, silentLogger } from '@org/btrfs-s3-core';
import { S3Bucket, withS3Client } from '@org/btrfs-s3-store';

/** What the bucket operations reach S3 through; each defaults to the real one (tests inject fakes). */
export interface BucketDeps {
  /**
   * Made from `config.s3` when absent, and destroyed when the call ends. One given here is left
   * open; make it with `createS3Client` (@org/btrfs-s3-store) to keep the timeouts and the
   * one retry loop the config sets (a plain S3Client retries underneath them).
   */
  readonly client?: S3Client;
  readonly now?: () => Date;
}

/** What every bucket operation takes. */
export interface BucketOptions {
  /** The S3 location is enough (a new host's config); a backup host's whole Config is one too. */
  readonly config: RemoteConfig;
  /** Silent when absent. */
  readonly logger?: Logger;
  /** Aborting it stops the operation between requests. */
  readonly signal?: AbortSignal;
  readonly deps?: BucketDeps;
}

/** BucketOptions resolved: what the operations use inside. */
export interface BucketContext {
  readonly config: RemoteConfig;
  readonly logger: Logger;
  /** The call's one bucket handle: the client, `config.s3`'s bucket, SSE and retry policy, and `signal`. */
  readonly bucket: S3Bucket;
  readonly now: () => Date;
  readonly signal: AbortSignal;
}

/**
 * Runs `fn` with the options resolved into a context, closing a client it made. In a
 * bucket with versioning on, the handle sees through delete markers (S3Bucket
 * throughDeleteMarkers), so what someone "deleted" with the credentials still counts,
 * and the logger says so once.
 */
export function withBucketContext<T>(options: BucketOptions, fn: (context: BucketContext) => Promise<T>): Promise<T> {
  const { config, deps = {} } = options;
  const signal = options.signal ?? new AbortController().signal;
  const logger = options.logger ?? silentLogger();
  return withS3Client(config.s3, deps.client, async (client) =>
    fn({
      config,
      logger,
      bucket: await new S3Bucket(client, config.s3, { signal }).throughDeleteMarkers((message) => logger.warn(message)),
      now: deps.now ?? (() => new Date()),
      signal,
    }),
  );
}
