import { run, withLoopBtrfs } from '@org/testenv';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Btrfs, BtrfsError, NotBtrfsError, spawnProcessRunner } from '../../src';

/** One field of `btrfs subvolume show`, read with a plain regex as a check independent of the parser. */
async function showField(path: string, field: string): Promise<string> {
  const match = new RegExp(`^\\t${field}:\\s+(.*)$`, 'm').exec(await run('btrfs', ['subvolume', 'show', path]));
  if (match?.[1] === undefined) throw new Error(`no ${field} in btrfs subvolume show ${path}`);
  return match[1];
}

describe('Btrfs subvolume inspection on a real Btrfs', () => {
  it('shows a read-only snapshot with the UUIDs btrfs subvolume show prints and readOnly matching the ro property', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await btrfs.createReadOnlySnapshot(join(mnt, 'data'), join(mnt, 'snap'));

      const snapshot = await btrfs.showSubvolume(join(mnt, 'snap'));
      expect(snapshot).toMatchObject({ path: join(mnt, 'snap'), name: 'snap', readOnly: true, receivedUuid: null });
      expect(snapshot.uuid).toBe(await showField(join(mnt, 'snap'), 'UUID'));
      expect(snapshot.parentUuid).toBe(await showField(join(mnt, 'data'), 'UUID'));
      expect(snapshot.generation).toBe(Number(await showField(join(mnt, 'snap'), 'Generation')));
      expect(snapshot.creationTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/);
      expect((await run('btrfs', ['property', 'get', '-ts', join(mnt, 'snap'), 'ro'])).trim()).toBe('ro=true');
    });
  });

  it('shows a subvolume created empty as writable, with no parent or received UUID', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      const data = await btrfs.showSubvolume(join(mnt, 'data'));
      expect(data).toMatchObject({ name: 'data', parentUuid: null, receivedUuid: null, readOnly: false });
      expect((await run('btrfs', ['property', 'get', '-ts', join(mnt, 'data'), 'ro'])).trim()).toBe('ro=false');
    });
  });

  it('fails to show a plain directory with btrfs stderr in the error', async () => {
    await withLoopBtrfs(async (mnt) => {
      await mkdir(join(mnt, 'plain'));
      const attempt = new Btrfs(spawnProcessRunner).showSubvolume(join(mnt, 'plain'));
      await expect(attempt).rejects.toThrow(BtrfsError);
      await expect(attempt).rejects.toThrow(
        `\`btrfs subvolume show ${join(mnt, 'plain')}\` exited with code 1: ERROR: Not a Btrfs subvolume`,
      );
    });
  });

  it('lists only the direct child subvolumes, sorted by name: no plain directories, files, deeper subvolumes or empty placeholders', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const dir = join(mnt, 'snapshots');
      await mkdir(dir);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await btrfs.createSubvolume(join(mnt, 'data', 'nested'));
      await btrfs.createReadOnlySnapshot(join(mnt, 'data'), join(dir, 'data__2'));
      await btrfs.createSubvolume(join(dir, 'data__1'));
      await btrfs.createSubvolume(join(dir, 'data__1', 'deeper'));
      await mkdir(join(dir, 'plain'));
      await writeFile(join(dir, 'file'), 'x');

      const listed = await btrfs.listSubvolumes(dir);
      expect(listed.map((info) => [info.path, info.readOnly])).toEqual([
        [join(dir, 'data__1'), false],
        [join(dir, 'data__2'), true],
      ]);
      // The snapshot holds an empty directory where data/nested was: a placeholder, not a subvolume.
      await expect(btrfs.listSubvolumes(join(dir, 'data__2'))).resolves.toEqual([]);
      await expect(btrfs.listSubvolumes(join(dir, 'data__1'))).resolves.toMatchObject([{ name: 'deeper' }]);
    });
  });

  it('rejects listing a missing directory with an error naming it', async () => {
    await withLoopBtrfs(async (mnt) => {
      const attempt = new Btrfs(spawnProcessRunner).listSubvolumes(join(mnt, 'missing'));
      await expect(attempt).rejects.toThrow(BtrfsError);
      await expect(attempt).rejects.toThrow(
        `btrfs list subvolumes failed: ENOENT: no such file or directory, statfs '${join(mnt, 'missing')}'`,
      );
    });
  });

  it('rejects listing a directory that is not on Btrfs with NotBtrfsError', async () => {
    const attempt = new Btrfs(spawnProcessRunner).listSubvolumes('/proc');
    await expect(attempt).rejects.toThrow(NotBtrfsError);
    await expect(attempt).rejects.toThrow('btrfs list subvolumes failed: /proc is not on a Btrfs filesystem (filesystem type 0x9fa0)');
  });
});
