import { withLoopBtrfs } from '@org/testenv';
import { watch } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Btrfs, BtrfsError, spawnProcessRunner } from '../../src';
import { collector, lastCommandOffset, recordingRunner, treeHashes, waitUntil, writeRandomFile } from './helpers';

/** Two separate Btrfs filesystems, so a receive can only use what was sent to it. */
function withTwoFilesystems<T>(fn: (source: string, target: string) => Promise<T>): Promise<T> {
  return withLoopBtrfs((source) => withLoopBtrfs((target) => fn(source, target)));
}

/** A subvolume `data` with a few files and a read-only snapshot of it named `name`. */
async function seed(btrfs: Btrfs, mnt: string, name: string): Promise<string> {
  await btrfs.createSubvolume(join(mnt, 'data'));
  await mkdir(join(mnt, 'data', 'dir'));
  await writeRandomFile(join(mnt, 'data', 'big.bin'), 3 * 1024 * 1024 + 5);
  await writeFile(join(mnt, 'data', 'dir', 'small.txt'), 'v1');
  await writeFile(join(mnt, 'data', 'gone.txt'), 'deleted later');
  await btrfs.createReadOnlySnapshot(join(mnt, 'data'), join(mnt, name));
  return join(mnt, name);
}

describe('btrfs send and receive on real Btrfs', () => {
  it('reproduces every file through a full send piped into receive on another filesystem, as a read-only received snapshot', async () => {
    await withTwoFilesystems(async (source, target) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const snapshot = await seed(btrfs, source, 'snap1');
      const receiver = btrfs.receive(target);
      await pipeline(btrfs.send(snapshot), receiver);

      await expect(receiver.done).resolves.toEqual([join(target, 'snap1')]);
      expect(await treeHashes(join(target, 'snap1'))).toEqual(await treeHashes(snapshot));
      const received = await btrfs.showSubvolume(join(target, 'snap1'));
      expect(received).toMatchObject({ readOnly: true, receivedUuid: (await btrfs.showSubvolume(snapshot)).uuid });
    });
  });

  it('reproduces changed, added and deleted files through an incremental send -p PARENT into a target that received PARENT', async () => {
    await withTwoFilesystems(async (source, target) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const parent = await seed(btrfs, source, 'snap1');
      await pipeline(btrfs.send(parent), btrfs.receive(target));
      await writeFile(join(source, 'data', 'dir', 'small.txt'), 'v2');
      await writeFile(join(source, 'data', 'added.txt'), 'new');
      await rm(join(source, 'data', 'gone.txt'));
      await btrfs.createReadOnlySnapshot(join(source, 'data'), join(source, 'snap2'));

      const sent = collector();
      await pipeline(btrfs.send(join(source, 'snap2'), { parent }), sent.stream);
      const receiver = btrfs.receive(target);
      await pipeline(Readable.from([sent.bytes()]), receiver);

      await expect(receiver.done).resolves.toEqual([join(target, 'snap2')]);
      // An incremental stream carries only the changes: far less than the 3 MiB file it leaves alone.
      expect(sent.bytes().length).toBeLessThan(64 * 1024);
      expect(await treeHashes(join(target, 'snap2'))).toEqual(await treeHashes(join(source, 'snap2')));
      expect(await readFile(join(target, 'snap2', 'dir', 'small.txt'), 'utf8')).toBe('v2');
      await expect(readFile(join(target, 'snap1', 'gone.txt'), 'utf8')).resolves.toBe('deleted later');
    });
  });

  it('fails an incremental receive whose parent the target never received, with its stderr, and leaves no partial subvolume', async () => {
    await withTwoFilesystems(async (source, target) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const parent = await seed(btrfs, source, 'snap1');
      await btrfs.createReadOnlySnapshot(join(source, 'data'), join(source, 'snap2'));
      const receiver = btrfs.receive(target);

      const attempt = pipeline(btrfs.send(join(source, 'snap2'), { parent }), receiver);
      await expect(attempt).rejects.toThrow(BtrfsError);
      await expect(attempt).rejects.toThrow(
        `btrfs receive failed: \`btrfs receive --chroot ${target}\` exited with code 1: ERROR: cannot find parent subvolume`,
      );
      await expect(receiver.done).rejects.toThrow('cannot find parent subvolume');
      expect(await readdir(target)).toEqual([]);
    });
  });

  it('fails sending a writable subvolume with btrfs send stderr in the error', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      const attempt = pipeline(btrfs.send(join(mnt, 'data')), collector().stream);
      await expect(attempt).rejects.toThrow(BtrfsError);
      await expect(attempt).rejects.toThrow(
        `btrfs send failed: \`btrfs send ${join(mnt, 'data')}\` exited with code 1: ERROR: subvolume ${join(mnt, 'data')} is not read-only`,
      );
    });
  });

  it.each([
    [
      'exactly before its end command',
      (stream: Buffer) => stream.subarray(0, lastCommandOffset(stream)),
      'ERROR: unexpected EOF in stream',
    ],
    ['in the middle of a command', (stream: Buffer) => stream.subarray(0, Math.floor(stream.length / 2)), 'ERROR: short read from stream'],
  ])('fails a receive of a stream cut off %s, and deletes the subvolume it had started', async (_where, cut, stderr) => {
    await withTwoFilesystems(async (source, target) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const snapshot = await seed(btrfs, source, 'snap1');
      const sent = collector();
      await pipeline(btrfs.send(snapshot), sent.stream);
      const watcher = watch(target);
      const created = once(watcher, 'change');
      const receiver = btrfs.receive(target);

      const attempt = pipeline(Readable.from([cut(sent.bytes())]), receiver);
      try {
        // receive created the subvolume before it ran out of input: there is something to clean up.
        await created;
      } finally {
        watcher.close();
      }
      await expect(attempt).rejects.toThrow(`btrfs receive failed: \`btrfs receive --chroot ${target}\` exited with code 1: ${stderr}`);
      await expect(receiver.done).rejects.toThrow(BtrfsError);
      expect(await readdir(target)).toEqual([]);
    });
  });

  it('kills receive and deletes the partial subvolume when its input fails midway', async () => {
    await withTwoFilesystems(async (source, target) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const snapshot = await seed(btrfs, source, 'snap1');
      const sent = collector();
      await pipeline(btrfs.send(snapshot), sent.stream);
      const watcher = watch(target);
      async function* failingSource() {
        yield sent.bytes().subarray(0, 64 * 1024);
        // Fail only once receive has created the subvolume, so there is something to clean up.
        await once(watcher, 'change');
        throw new Error('chunk 2 failed its sha256 check');
      }
      const receiver = btrfs.receive(target);
      try {
        await expect(pipeline(failingSource(), receiver)).rejects.toThrow('chunk 2 failed its sha256 check');
      } finally {
        watcher.close();
      }
      await expect(receiver.done).rejects.toThrow(
        `btrfs receive failed: \`btrfs receive --chroot ${target}\` was stopped: chunk 2 failed its sha256 check`,
      );
      expect(await readdir(target)).toEqual([]);
    });
  });

  it('blocks btrfs send on the pipe while nobody reads, buffering no more than a highWaterMark and a pipe read, then delivers it all', async () => {
    await withTwoFilesystems(async (source, target) => {
      const runner = recordingRunner();
      const btrfs = new Btrfs(runner);
      await btrfs.createSubvolume(join(source, 'data'));
      await writeRandomFile(join(source, 'data', 'big.bin'), 64 * 1024 * 1024);
      await btrfs.createReadOnlySnapshot(join(source, 'data'), join(source, 'snap'));

      const stream = btrfs.send(join(source, 'snap'));
      const [child] = runner.spawned;
      const pid = child?.pid;
      if (pid === undefined) throw new Error('btrfs send did not start');
      let exited = false;
      void child?.completion.then(() => {
        exited = true;
      });
      // The kernel's own word that send is stuck writing to a full pipe (wchan pipe_write or anon_pipe_write).
      await waitUntil('btrfs send blocks writing to its stdout pipe', async () =>
        /pipe_write$/.test(await readFile(`/proc/${pid}/wchan`, 'utf8')),
      );
      expect(exited).toBe(false);
      expect(stream.readableLength).toBeLessThanOrEqual(stream.readableHighWaterMark + 64 * 1024);

      const receiver = btrfs.receive(target);
      await pipeline(stream, receiver);
      await expect(receiver.done).resolves.toEqual([join(target, 'snap')]);
      expect(await treeHashes(join(target, 'snap'))).toEqual(await treeHashes(join(source, 'snap')));
    });
  });

  it('kills btrfs send when the consumer destroys the stream', async () => {
    await withLoopBtrfs(async (mnt) => {
      const runner = recordingRunner();
      const btrfs = new Btrfs(runner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await writeRandomFile(join(mnt, 'data', 'big.bin'), 16 * 1024 * 1024);
      await btrfs.createReadOnlySnapshot(join(mnt, 'data'), join(mnt, 'snap'));

      const stream = btrfs.send(join(mnt, 'snap'));
      await once(stream, 'readable');
      stream.destroy();
      const [child] = runner.spawned;
      await expect(child?.completion).resolves.toMatchObject({ exitCode: null, signal: 'SIGTERM' });
      // Nothing of the aborted send is left running.
      await expect(access(`/proc/${child?.pid ?? 'unknown'}`)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});
