import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec';
import { readEnvFile } from './gateway';
import { RGW_SCRIPT } from './paths';

/**
 * Jest global setup for integration suites: reuse the gateway the test command
 * started (BTRFS_S3_TEST_ENDPOINT set), or start a private one for this jest run.
 * Workers inherit process.env, so tests find it through `testGateway()`.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.BTRFS_S3_TEST_ENDPOINT) return;
  const dir = await mkdtemp(join(tmpdir(), 'btrfs-to-s3-rgw-'));
  await run(RGW_SCRIPT, ['start', dir]);
  Object.assign(process.env, await readEnvFile(join(dir, 'env')), { BTRFS_S3_TEST_OWNED_DIR: dir });
}
