import { DamagedBackupError, verifyChain, type VerifySubvolume } from '@org/btrfs-s3-bucket';
import { type ManifestSource, resolveChain } from '@org/btrfs-s3-core';
import type { BackupContext } from './context';

/**
 * Before a prune may delete an older generation, the chain that replaces it is proven
 * in the same run: every manifest from the new backup back to its full is parsed and
 * checked (as the prune read them a moment before, when it passes them), and every
 * chunk of it exists with its recorded size (a HEAD each). Each part's bytes were
 * checked by the store against its recorded SHA-256 as it was uploaded (the signed
 * payload hash), so together nothing is deleted in favour of a chain that would not
 * restore. Returns the check's report (`ok` when proven).
 */
export async function proveChain(
  context: BackupContext,
  subvolume: string,
  manifestKey: string,
  /**
   * Where the manifests are read: the texts the prune read a moment before (pruneHeld's
   * beforeDelete), or, when undefined, the bucket through the backup's own handle, which
   * does not see through delete markers: a hidden manifest fails the proof.
   */
  manifests: ManifestSource = { readText: (key) => context.bucket.readTextIfExists(key) },
): Promise<VerifySubvolume> {
  const chain = await resolveChain(manifests, manifestKey, subvolume);
  return verifyChain(context, subvolume, manifestKey, chain, { reads: 'none' });
}

/** The error for chains that failed their proof: the same report `verify` gives. */
export function unprovenChains(damaged: readonly VerifySubvolume[]): DamagedBackupError {
  return new DamagedBackupError({ ok: false, reads: 'none', sample: null, subvolumes: [...damaged] });
}
