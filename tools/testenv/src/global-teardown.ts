import { run } from './exec';
import { RGW_SCRIPT } from './paths';

/** Stops the gateway only if this jest run's global setup started it. */
export default async function globalTeardown(): Promise<void> {
  const dir = process.env.BTRFS_S3_TEST_OWNED_DIR;
  if (dir) await run(RGW_SCRIPT, ['stop', dir]);
}
