import { ExitCode } from '@org/btrfs-s3-core';
import { Btrfs, BtrfsError } from './btrfs';
import { ProcessError, type ProcessRunner } from './process-runner';

/** A runner that records calls and answers from a script, instead of spawning btrfs. */
function fakeRunner(answer: (args: readonly string[]) => Promise<{ stdout: string; stderr: string }>) {
  const calls: (readonly string[])[] = [];
  const runner: ProcessRunner = {
    run(command, args) {
      calls.push([command, ...args]);
      return answer(args);
    },
  };
  return { runner, calls };
}

const ok = async () => ({ stdout: '', stderr: '' });

describe('Btrfs', () => {
  it('creates read-only snapshots with btrfs subvolume snapshot -r', async () => {
    const { runner, calls } = fakeRunner(ok);
    await new Btrfs(runner).createReadOnlySnapshot('/srv/data', '/srv/.snapshots/data__x__full');
    expect(calls).toEqual([['btrfs', 'subvolume', 'snapshot', '-r', '/srv/data', '/srv/.snapshots/data__x__full']]);
  });

  it('creates and deletes subvolumes', async () => {
    const { runner, calls } = fakeRunner(ok);
    const btrfs = new Btrfs(runner, '/sbin/btrfs');
    await btrfs.createSubvolume('/mnt/a');
    await btrfs.deleteSubvolume('/mnt/a');
    expect(calls).toEqual([
      ['/sbin/btrfs', 'subvolume', 'create', '/mnt/a'],
      ['/sbin/btrfs', 'subvolume', 'delete', '/mnt/a'],
    ]);
  });

  it('turns a failed command into a BtrfsError naming the command and its stderr', async () => {
    const { runner } = fakeRunner(async (args) => {
      throw new ProcessError('btrfs', args, 1, "ERROR: Not a Btrfs subvolume: Invalid argument\n");
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
    const { runner } = fakeRunner(async () => {
      throw bug;
    });
    await expect(new Btrfs(runner).createSubvolume('/x')).rejects.toBe(bug);
  });
});
