import type { S3Client } from '@aws-sdk/client-s3';
import { type Config, type Logger, silentLogger } from '@org/btrfs-s3-core';
import { S3ObjectStore, withS3Client } from '@org/btrfs-s3-store';

/** What the bucket operations reach S3 through; each defaults to the real one (tests inject fakes). */
export interface BucketDeps {
  /** Made from `config.s3` when absent, and destroyed when the call ends. */
  readonly client?: S3Client;
  readonly now?: () => Date;
}

/** What every bucket operation takes. */
export interface BucketOptions {
  readonly config: Config;
  /** Silent when absent. */
  readonly logger?: Logger;
  /** Aborting it stops the operation between requests. */
  readonly signal?: AbortSignal;
  readonly deps?: BucketDeps;
}

/** BucketOptions resolved: what the operations use inside. */
export interface BucketContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly client: S3Client;
  readonly store: S3ObjectStore;
  readonly now: () => Date;
  readonly signal: AbortSignal;
}

/** Runs `fn` with the options resolved into a context, closing a client it made. */
export function withBucketContext<T>(options: BucketOptions, fn: (context: BucketContext) => Promise<T>): Promise<T> {
  const { config, deps = {} } = options;
  return withS3Client(config.s3, deps.client, (client) =>
    fn({
      config,
      logger: options.logger ?? silentLogger(),
      client,
      store: new S3ObjectStore(client, config.s3),
      now: deps.now ?? (() => new Date()),
      signal: options.signal ?? new AbortController().signal,
    }),
  );
}
