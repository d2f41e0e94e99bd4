import { rm } from 'node:fs/promises';
import { run } from './exec';
import { RGW_SCRIPT } from './paths';

/** Removes the fixtures' scratch directory, and stops the gateway only if this jest run's global setup started it. */
export default async function globalTeardown(): Promise<void> {
  const scratch = process.env.BTRFS_S3_TEST_SCRATCH;
  if (scratch) await rm(scratch, { recursive: true, force: true });
  const dir = process.env.BTRFS_S3_TEST_OWNED_DIR;
  if (dir) await run(RGW_SCRIPT, ['stop', dir]);
}
