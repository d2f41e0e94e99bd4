import { ExitCode } from '@org/btrfs-s3-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoError, fakeDirectories, FakeRunner } from './__fakes__/fake-runner';
import { Btrfs } from './btrfs';
import { BTRFS_SUPER_MAGIC } from './directory-probe';
import { BtrfsError, NotBtrfsError } from './errors';
import { ProcessError } from '@org/btrfs-s3-core';

const TMPFS_MAGIC = 0x01021994;
const showOutput = (name: string) => readFileSync(join(__dirname, '__fixtures__', `show-${name}.txt`), 'utf8');

describe('Btrfs', () => {
  it('creates read-only snapshots with btrfs subvolume snapshot -r', async () => {
    const runner = new FakeRunner();
    await new Btrfs(runner).createReadOnlySnapshot('/srv/data', '/srv/.snapshots/data__x__full');
    expect(runner.calls).toEqual([['btrfs', 'subvolume', 'snapshot', '-r', '/srv/data', '/srv/.snapshots/data__x__full']]);
  });

  it('creates and deletes subvolumes', async () => {
    const runner = new FakeRunner();
    const btrfs = new Btrfs(runner, '/sbin/btrfs');
    await btrfs.createSubvolume('/mnt/a');
    await btrfs.deleteSubvolume('/mnt/a');
    expect(runner.calls).toEqual([
      ['/sbin/btrfs', 'subvolume', 'create', '/mnt/a'],
      ['/sbin/btrfs', 'subvolume', 'delete', '/mnt/a'],
    ]);
  });

  it('turns a failed command into a BtrfsError naming the command and its stderr', async () => {
    const runner = new FakeRunner(async (args) => {
      throw new ProcessError('btrfs', args, 1, 'ERROR: Not a Btrfs subvolume: Invalid argument\n');
    });
    const attempt = new Btrfs(runner).createReadOnlySnapshot('/tmp/plain', '/tmp/snap');
    await expect(attempt).rejects.toThrow(BtrfsError);
    await expect(attempt).rejects.toThrow(
      'btrfs snapshot failed: `btrfs subvolume snapshot -r /tmp/plain /tmp/snap` exited with code 1: ERROR: Not a Btrfs subvolume: Invalid argument',
    );
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Fatal });
  });

  it('passes through errors that are not process failures', async () => {
    const bug = new TypeError('bug');
    const runner = new FakeRunner(async () => {
      throw bug;
    });
    await expect(new Btrfs(runner).createSubvolume('/x')).rejects.toBe(bug);
  });
});

describe('Btrfs.showSubvolume', () => {
  it('runs btrfs subvolume show on the path and returns the parsed record', async () => {
    const runner = new FakeRunner(async () => ({ stdout: showOutput('readonly-snapshot'), stderr: '' }));
    await expect(new Btrfs(runner).showSubvolume('/mnt/snap1')).resolves.toMatchObject({
      path: '/mnt/snap1',
      name: 'snap1',
      readOnly: true,
    });
    expect(runner.calls).toEqual([['btrfs', 'subvolume', 'show', '/mnt/snap1']]);
  });

  it('reports output it cannot read as a BtrfsError naming the command', async () => {
    const runner = new FakeRunner(async () => ({ stdout: 'something else\n', stderr: '' }));
    const attempt = new Btrfs(runner).showSubvolume('/mnt/x');
    await expect(attempt).rejects.toThrow(BtrfsError);
    await expect(attempt).rejects.toThrow('btrfs subvolume show failed: no "UUID:" line in the output of btrfs subvolume show /mnt/x');
  });
});

describe('Btrfs.isOnBtrfs', () => {
  /** A probe that knows the filesystem type of a few existing paths; anything else is ENOENT. */
  const probe = (types: Record<string, number>) => ({
    ...fakeDirectories(BTRFS_SUPER_MAGIC, []),
    async filesystemType(path: string) {
      const type = types[path];
      if (type === undefined) throw errnoError('ENOENT', `no such file or directory, statfs '${path}'`);
      return type;
    },
  });

  it('answers for an existing path', async () => {
    await expect(new Btrfs(new FakeRunner(), 'btrfs', probe({ '/srv/snaps': BTRFS_SUPER_MAGIC })).isOnBtrfs('/srv/snaps')).resolves.toBe(
      true,
    );
    await expect(new Btrfs(new FakeRunner(), 'btrfs', probe({ '/tmp/snaps': TMPFS_MAGIC })).isOnBtrfs('/tmp/snaps')).resolves.toBe(false);
  });

  it('answers for a missing path by its nearest existing ancestor, where it would be created', async () => {
    await expect(new Btrfs(new FakeRunner(), 'btrfs', probe({ '/srv': BTRFS_SUPER_MAGIC })).isOnBtrfs('/srv/a/b')).resolves.toBe(true);
    await expect(
      new Btrfs(new FakeRunner(), 'btrfs', probe({ '/': TMPFS_MAGIC, '/srv': BTRFS_SUPER_MAGIC })).isOnBtrfs('/x/y'),
    ).resolves.toBe(false);
  });

  it('reports a filesystem error other than a missing path', async () => {
    const denied = {
      ...probe({}),
      filesystemType: async () => Promise.reject(errnoError('EACCES', "permission denied, statfs '/secret'")),
    };
    await expect(new Btrfs(new FakeRunner(), 'btrfs', denied).isOnBtrfs('/secret')).rejects.toThrow('btrfs statfs failed: EACCES');
  });
});

describe('Btrfs.listSubvolumes', () => {
  /** A snapshot directory: three subvolumes, a plain directory, and a nested subvolume's placeholder. */
  const snapshotDir = () =>
    fakeDirectories(BTRFS_SUPER_MAGIC, [
      [
        { name: 'data__b', inode: 256 },
        { name: 'plain-dir', inode: 257 },
        { name: 'Data__c', inode: 256 },
        { name: 'placeholder-of-nested-subvolume', inode: 2 },
        { name: 'data__a', inode: 256 },
      ],
    ]);

  it('shows only the direct children whose inode is 256, sorted by name', async () => {
    const directories = snapshotDir();
    const runner = new FakeRunner(async (args) => ({
      stdout: showOutput('readonly-snapshot').replace('Name: \t\t\tsnap1', `Name: \t\t\t${(args[2] ?? '').split('/').pop() ?? ''}`),
      stderr: '',
    }));
    const listed = await new Btrfs(runner, 'btrfs', directories).listSubvolumes('/snaps');
    expect(listed.map((info) => [info.path, info.name])).toEqual([
      ['/snaps/Data__c', 'Data__c'],
      ['/snaps/data__a', 'data__a'],
      ['/snaps/data__b', 'data__b'],
    ]);
    expect(runner.calls).toEqual(['Data__c', 'data__a', 'data__b'].map((name) => ['btrfs', 'subvolume', 'show', `/snaps/${name}`]));
  });

  it('lists only the names with listSubvolumeNames, in the same order, without running btrfs', async () => {
    const runner = new FakeRunner();
    expect(await new Btrfs(runner, 'btrfs', snapshotDir()).listSubvolumeNames('/snaps')).toEqual(['Data__c', 'data__a', 'data__b']);
    expect(runner.calls).toEqual([]);
  });

  it('rejects a directory on another filesystem with NotBtrfsError before running btrfs', async () => {
    const runner = new FakeRunner();
    const attempt = new Btrfs(runner, 'btrfs', fakeDirectories(TMPFS_MAGIC, [[]])).listSubvolumes('/dev/shm/x');
    await expect(attempt).rejects.toThrow(NotBtrfsError);
    await expect(attempt).rejects.toThrow(
      'btrfs list subvolumes failed: /dev/shm/x is not on a Btrfs filesystem (filesystem type 0x1021994)',
    );
    expect(runner.calls).toEqual([]);
  });

  it('rejects a missing directory with a BtrfsError naming it', async () => {
    const missing = errnoError('ENOENT', "no such file or directory, readdir '/nope'");
    const attempt = new Btrfs(new FakeRunner(), 'btrfs', fakeDirectories(BTRFS_SUPER_MAGIC, missing)).listSubvolumes('/nope');
    await expect(attempt).rejects.toThrow(BtrfsError);
    await expect(attempt).rejects.toThrow("btrfs list subvolumes failed: ENOENT: no such file or directory, readdir '/nope'");
    await expect(attempt).rejects.toMatchObject({ cause: missing });
  });

  it('passes through probe failures that are not filesystem errors', async () => {
    const bug = new TypeError('bug');
    const attempt = new Btrfs(new FakeRunner(), 'btrfs', fakeDirectories(BTRFS_SUPER_MAGIC, bug)).listSubvolumes('/snaps');
    await expect(attempt).rejects.toBe(bug);
  });
});
