import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errnoError, fakeDirectories, FakeRunner } from './__fakes__/fake-runner';
import { Btrfs } from './btrfs';
import { BTRFS_SUPER_MAGIC } from './directory-probe';
import { BtrfsError, NotBtrfsError } from './errors';
import { ProcessError } from '@org/btrfs-s3-core';

const existing = [
  { name: 'older', inode: 256 },
  { name: 'plain', inode: 300 },
];
const afterPartialReceive = [...existing, { name: 'snap2', inode: 256 }, { name: 'someone-elses-dir', inode: 301 }];

/** A Btrfs over fakes whose target directory lists `before`, then `after` from the second listing on. */
function setup(listings = [existing, afterPartialReceive], runner = new FakeRunner()) {
  const directories = fakeDirectories(BTRFS_SUPER_MAGIC, listings);
  return { runner, directories, btrfs: new Btrfs(runner, 'btrfs', directories) };
}

describe('Btrfs.receive', () => {
  it('feeds the stream to btrfs receive --chroot TARGET and finishes with the subvolume that appeared, only after it exited 0', async () => {
    const { runner, btrfs } = setup([existing, [...existing, { name: 'snap1', inode: 256 }, { name: 'a-plain-dir', inode: 302 }]]);
    const receiver = btrfs.receive('/backup');
    const done = pipeline(Readable.from([Buffer.from('btrfs-stream\0'), Buffer.from('rest')]), receiver);
    const process = await runner.process;
    let finished = false;
    receiver.on('finish', () => {
      finished = true;
    });
    await process.endOfInput;
    expect(finished).toBe(false);
    process.exitWith({ exitCode: 0, stderr: 'At subvol snap1\n' });
    await done;
    await expect(receiver.done).resolves.toEqual(['/backup/snap1']);
    expect(Buffer.concat(process.input).toString()).toBe('btrfs-stream\0rest');
    expect(runner.calls).toEqual([['btrfs', 'receive', '--chroot', '/backup']]);
  });

  it('takes the received subvolume from the target directory, never from what receive printed (a forged name)', async () => {
    const { runner, btrfs } = setup([existing, [...existing, { name: 'snap2', inode: 256 }]]);
    const receiver = btrfs.receive('/backup');
    const done = pipeline(Readable.from([Buffer.from('incremental')]), receiver);
    const process = await runner.process;
    process.stdout.write('At snapshot snap2\nAt snapshot ../../etc\n');
    await process.endOfInput;
    process.exitWith({ exitCode: 0 });
    await done;
    await expect(receiver.done).resolves.toEqual(['/backup/snap2']);
  });

  it('deletes only the subvolumes that appeared during a failed receive, and names the command and its error line', async () => {
    const { runner, btrfs } = setup();
    const receiver = btrfs.receive('/backup');
    const done = pipeline(Readable.from([Buffer.from('cut short')]), receiver);
    (await runner.process).exitWith({ exitCode: 1, stderr: 'At subvol snap2\nERROR: unexpected EOF in stream\n' });
    await expect(done).rejects.toThrow(BtrfsError);
    await expect(done).rejects.toThrow(
      'btrfs receive failed: `btrfs receive --chroot /backup` exited with code 1: ERROR: unexpected EOF in stream',
    );
    await expect(receiver.done).rejects.toThrow('ERROR: unexpected EOF in stream');
    expect(runner.calls).toEqual([
      ['btrfs', 'receive', '--chroot', '/backup'],
      ['btrfs', 'subvolume', 'delete', '/backup/snap2'],
    ]);
  });

  it('kills btrfs receive and deletes the partial subvolume when its input fails', async () => {
    const { runner, btrfs } = setup();
    const receiver = btrfs.receive('/backup');
    async function* failingSource() {
      yield Buffer.from('btrfs-stream\0');
      throw new Error('chunk 3 failed its sha256 check');
    }
    const done = pipeline(failingSource(), receiver);
    await expect(done).rejects.toThrow('chunk 3 failed its sha256 check');
    await expect(receiver.done).rejects.toThrow(
      'btrfs receive failed: `btrfs receive --chroot /backup` was stopped: chunk 3 failed its sha256 check (`btrfs receive --chroot /backup` was killed by SIGTERM)',
    );
    expect((await runner.process).kills).toEqual(['SIGTERM']);
    expect(runner.calls).toContainEqual(['btrfs', 'subvolume', 'delete', '/backup/snap2']);
  });

  it('fails when btrfs receive exits before its input ended, even with status 0', async () => {
    const { runner, btrfs } = setup();
    const receiver = btrfs.receive('/backup');
    receiver.write('first part');
    const failed = new Promise((resolve) => receiver.once('error', resolve));
    (await runner.process).exitWith({ exitCode: 0, stderr: 'At subvol snap2\n' });
    await expect(failed).resolves.toMatchObject({
      message: 'btrfs receive failed: `btrfs receive --chroot /backup` exited before the end of its input',
    });
    await expect(receiver.done).rejects.toThrow(BtrfsError);
    expect(runner.calls).toContainEqual(['btrfs', 'subvolume', 'delete', '/backup/snap2']);
  });

  it('fails when btrfs receive exits 0 without creating a subvolume', async () => {
    const { runner, btrfs } = setup([existing]);
    const receiver = btrfs.receive('/backup');
    const done = pipeline(Readable.from([Buffer.from('x')]), receiver);
    const process = await runner.process;
    await process.endOfInput;
    process.exitWith({ exitCode: 0 });
    await expect(done).rejects.toThrow('btrfs receive failed: `btrfs receive --chroot /backup` created no subvolume in /backup');
  });

  it('says which partial subvolume it could not delete', async () => {
    const runner = new FakeRunner(async (args) => {
      throw new ProcessError('btrfs', args, 1, 'ERROR: Could not destroy subvolume/snapshot: Operation not permitted\n');
    });
    const { btrfs } = setup(undefined, runner);
    const receiver = btrfs.receive('/backup');
    const done = pipeline(Readable.from([Buffer.from('x')]), receiver);
    (await runner.process).exitWith({ exitCode: 1, stderr: 'ERROR: cannot find parent subvolume\n' });
    await expect(done).rejects.toThrow(
      'btrfs receive failed: `btrfs receive --chroot /backup` exited with code 1: ERROR: cannot find parent subvolume; could not delete partially received subvolume /backup/snap2: btrfs subvolume delete failed',
    );
  });

  it('rejects a target on another filesystem with NotBtrfsError without starting btrfs', async () => {
    const runner = new FakeRunner();
    const receiver = new Btrfs(runner, 'btrfs', fakeDirectories(0xef53, [[]])).receive('/tmp/target');
    const done = pipeline(Readable.from([Buffer.from('x')]), receiver);
    await expect(done).rejects.toThrow(NotBtrfsError);
    await expect(receiver.done).rejects.toThrow('btrfs receive failed: /tmp/target is not on a Btrfs filesystem (filesystem type 0xef53)');
    expect(runner.calls).toEqual([]);
  });

  it('rejects a missing target with a BtrfsError naming it', async () => {
    const runner = new FakeRunner();
    const missing = errnoError('ENOENT', "no such file or directory, scandir '/nope'");
    const receiver = new Btrfs(runner, 'btrfs', fakeDirectories(BTRFS_SUPER_MAGIC, missing)).receive('/nope');
    await expect(pipeline(Readable.from([Buffer.from('x')]), receiver)).rejects.toThrow(
      "btrfs receive failed: ENOENT: no such file or directory, scandir '/nope'",
    );
    await expect(receiver.done).rejects.toThrow(BtrfsError);
    expect(runner.calls).toEqual([]);
  });
});
