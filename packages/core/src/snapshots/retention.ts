import { parseSnapshotName } from './names';

export interface RetentionInput {
  readonly subvolume: string;
  /** Names of everything in the snapshot directory; names not ours are ignored. */
  readonly names: readonly string[];
  /** `snapshots.retain`: how many of our snapshots of this subvolume to keep. */
  readonly retain: number;
  /** The last successfully uploaded snapshot (the next incremental's parent), and any other to keep whatever its age. */
  readonly keep?: string | readonly string[];
}

/**
 * Which snapshots to delete: ours (by name pattern) of this subvolume, beyond the
 * newest `retain`, never the last uploaded one. Oldest first.
 */
export function snapshotsToDelete(input: RetentionInput): string[] {
  const ours = input.names.filter((name) => parseSnapshotName(name)?.subvolume === input.subvolume).sort(); // one subvolume's names sort by time: a fixed prefix, then a fixed-width timestamp
  const keep = new Set(ours.slice(-input.retain));
  for (const name of typeof input.keep === 'string' ? [input.keep] : (input.keep ?? [])) keep.add(name);
  return ours.filter((name) => !keep.has(name));
}
