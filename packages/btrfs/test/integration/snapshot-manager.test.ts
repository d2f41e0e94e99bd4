import { withLoopBtrfs } from '@org/testenv';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Btrfs, SnapshotManager, spawnProcessRunner } from '../../src';

describe('SnapshotManager on a real Btrfs', () => {
  it('names snapshots in UTC without collisions and prunes exactly what retention says', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const source = join(mnt, 'data');
      await btrfs.createSubvolume(source);
      await writeFile(join(source, 'file'), 'v1');
      const manager = new SnapshotManager(btrfs, join(mnt, 'snapshots'));

      // Three runs within the same second get three distinct, ordered names.
      const now = new Date('2026-11-25T02:00:00.250Z');
      const first = await manager.create(source, 'data', 'full', now);
      const second = await manager.create(source, 'data', 'inc', now);
      const third = await manager.create(source, 'data', 'inc', now);
      expect([first.name, second.name, third.name]).toEqual([
        'data__20261125T020000Z__full',
        'data__20261125T020001Z__inc',
        'data__20261125T020002Z__inc',
      ]);
      const info = await btrfs.showSubvolume(third.path);
      expect(info.readOnly).toBe(true);

      // Snapshots the tool did not make are never touched.
      await btrfs.createReadOnlySnapshot(source, join(mnt, 'snapshots', 'data-manual'));
      await btrfs.createReadOnlySnapshot(source, join(mnt, 'snapshots', 'home__20200101T000000Z__full'));
      expect((await manager.list('data')).map((snapshot) => snapshot.name)).toEqual([first.name, second.name, third.name]);

      // Keep 1 (the newest) plus the last uploaded one (the oldest): only the middle goes.
      await expect(manager.prune('data', 1, first.name)).resolves.toEqual([second.name]);
      expect((await readdir(join(mnt, 'snapshots'))).sort()).toEqual(
        ['data-manual', first.name, third.name, 'home__20200101T000000Z__full'].sort(),
      );

      // Nothing more to prune: a second pass deletes nothing.
      await expect(manager.prune('data', 1, first.name)).resolves.toEqual([]);
    });
  });
});
