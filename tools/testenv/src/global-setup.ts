import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec';
import { readEnvFile } from './gateway';
import { RGW_SCRIPT } from './paths';

/**
 * Jest global setup for integration suites: a scratch directory for the fixtures'
 * files (BTRFS_S3_TEST_SCRATCH), and the gateway: reuse the one the test command
 * started (BTRFS_S3_TEST_ENDPOINT set), or start a private one for this jest run.
 * Workers inherit process.env, so tests find both.
 */
export default async function globalSetup(): Promise<void> {
  // One directory for what the fixtures write (writeConfig), removed by the teardown.
  // Searchable by all, as /tmp is: tests run the CLI as another user on a config in it.
  const scratch = await mkdtemp(join(tmpdir(), 'btrfs-to-s3-tests-'));
  await chmod(scratch, 0o755);
  process.env.BTRFS_S3_TEST_SCRATCH = scratch;
  if (process.env.BTRFS_S3_TEST_ENDPOINT) return;
  const dir = await mkdtemp(join(tmpdir(), 'btrfs-to-s3-rgw-'));
  await run(RGW_SCRIPT, ['start', dir]);
  Object.assign(process.env, await readEnvFile(join(dir, 'env')), { BTRFS_S3_TEST_OWNED_DIR: dir });
}
