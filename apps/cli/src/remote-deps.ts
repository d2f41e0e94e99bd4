import type { Config, Logger } from '@org/btrfs-s3-core';
import { createS3Client, S3ObjectStore } from '@org/btrfs-s3-store';
import { type InterruptedWork, withInterrupts } from './interrupts';
import type { RemoteDeps } from './jobs/inventory';

/** Runs a bucket job (list, verify, prune) with a client for the config, interruptible, destroying the client after. */
export async function withRemoteDeps<T>(config: Config, logger: Logger, work: InterruptedWork, run: (deps: RemoteDeps) => Promise<T>): Promise<T> {
  const client = createS3Client(config.s3);
  try {
    const store = new S3ObjectStore(client, config.s3);
    return await withInterrupts(logger, work, (signal) => run({ config, logger, client, store, now: () => new Date(), signal }));
  } finally {
    client.destroy();
  }
}
