import { ProcessError, spawnProcessRunner } from '@org/btrfs';
import { signalledRunner } from './restore';

describe('signalledRunner', () => {
  const runner = signalledRunner(spawnProcessRunner);

  it('returns the stdout of a program that exits 0', async () => {
    await expect(runner.run('sh', ['-c', 'echo restored'])).resolves.toEqual({ stdout: 'restored\n' });
  });

  it('rejects with a ProcessError naming the command and its stderr when the program fails', async () => {
    const failed = runner.run('sh', ['-c', 'echo no such tree >&2; exit 3']);
    await expect(failed).rejects.toBeInstanceOf(ProcessError);
    await expect(failed).rejects.toThrow('`sh -c echo no such tree >&2; exit 3` exited with code 3: no such tree');
  });

  it('kills the program when the signal aborts, instead of waiting for it to finish', async () => {
    const controller = new AbortController();
    // Would run for ten minutes, well past the test's timeout, unless the abort ends it.
    const run = runner.run('sleep', ['600'], { signal: controller.signal });
    controller.abort(new Error('interrupted'));
    await expect(run).rejects.toThrow('`sleep 600` was killed by SIGTERM');
  });
});
