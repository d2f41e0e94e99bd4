import { type BackupKind, nextSnapshotName, parseSnapshotName, snapshotsToDelete, type SnapshotName } from '@org/btrfs-s3-core';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Btrfs } from './btrfs';

export interface CreatedSnapshot extends SnapshotName {
  readonly path: string;
}

/**
 * The snapshots this tool makes in `snapshots.base_dir`: read-only, named
 * `<subvol>__<UTC timestamp>__<kind>`, and pruned by retention. It only ever
 * deletes subvolumes whose names match its own pattern.
 */
export class SnapshotManager {
  constructor(
    private readonly btrfs: Btrfs,
    private readonly baseDir: string,
  ) {}

  /**
   * A new read-only snapshot of `sourcePath`, named after every existing entry and every
   * one of `taken` (names in use elsewhere: the last backup's, whose snapshot may be gone
   * from here while its backup, named by the same second, is in the bucket), and by no
   * second of `avoid` (runs in the bucket, failed ones included: see nextSnapshotName).
   */
  async create(
    sourcePath: string,
    subvolume: string,
    kind: BackupKind,
    now: Date,
    taken: readonly string[] = [],
    avoid: readonly string[] = [],
  ): Promise<CreatedSnapshot> {
    await mkdir(this.baseDir, { recursive: true });
    const name = nextSnapshotName(subvolume, now, kind, [...(await readdir(this.baseDir)), ...taken], avoid);
    const path = join(this.baseDir, name.name);
    await this.btrfs.createReadOnlySnapshot(sourcePath, path);
    return { ...name, path };
  }

  /** Our snapshots of `subvolume`, oldest first (names only: no `btrfs subvolume show` each). */
  async list(subvolume: string): Promise<CreatedSnapshot[]> {
    const names = await this.btrfs.listSubvolumeNames(this.baseDir);
    // In code-unit order already, which for one subvolume's names is time order.
    return names.flatMap((name) => {
      const parsed = parseSnapshotName(name);
      return parsed?.subvolume === subvolume ? [{ ...parsed, path: join(this.baseDir, name) }] : [];
    });
  }

  /**
   * Deletes our snapshots of `subvolume` beyond the newest `retain`, never `keep`
   * (the last uploaded snapshot, parent of the next incremental, and a snapshot whose
   * interrupted backup waits to be resumed). Returns what went.
   */
  async prune(subvolume: string, retain: number, keep: string | readonly string[] | undefined): Promise<string[]> {
    const names = (await this.list(subvolume)).map((snapshot) => snapshot.name);
    const doomed = snapshotsToDelete({ subvolume, names, retain, ...(keep === undefined ? {} : { keep }) });
    for (const name of doomed) await this.btrfs.deleteSubvolume(join(this.baseDir, name));
    return doomed;
  }
}
