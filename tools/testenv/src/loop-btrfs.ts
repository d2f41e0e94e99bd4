import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec';
import { LOOP_BTRFS_SCRIPT } from './paths';

export interface LoopBtrfsOptions {
  /** Size of the sparse image, as truncate(1) takes it (default 1G). */
  readonly size?: string;
}

/**
 * Runs `fn` with the mount point of a fresh Btrfs filesystem on a loop device,
 * and always unmounts it and detaches the device afterwards, also when `fn` throws.
 */
export async function withLoopBtrfs<T>(fn: (mountPoint: string) => Promise<T>, options: LoopBtrfsOptions = {}): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'btrfs-to-s3-loop-'));
  try {
    await run(LOOP_BTRFS_SCRIPT, ['create', dir, options.size ?? '1G']);
    return await fn(join(dir, 'mnt'));
  } finally {
    await run(LOOP_BTRFS_SCRIPT, ['destroy', dir]);
  }
}
