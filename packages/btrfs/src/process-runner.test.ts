import { ProcessError, spawnProcessRunner } from './process-runner';

describe('spawnProcessRunner', () => {
  it('returns stdout and stderr of a successful program', async () => {
    await expect(spawnProcessRunner.run('sh', ['-c', 'echo out; echo err >&2'])).resolves.toEqual({ stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes arguments without a shell', async () => {
    await expect(spawnProcessRunner.run('printf', ['%s', '$HOME; rm -rf /'])).resolves.toEqual({ stdout: '$HOME; rm -rf /', stderr: '' });
  });

  it('rejects with the exit code and last stderr line on failure', async () => {
    const attempt = spawnProcessRunner.run('sh', ['-c', 'echo first >&2; echo last >&2; exit 3']);
    await expect(attempt).rejects.toThrow(ProcessError);
    await expect(attempt).rejects.toMatchObject({ exitCode: 3, stderr: 'first\nlast\n', message: '`sh -c echo first >&2; echo last >&2; exit 3` exited with code 3: last' });
  });

  it('rejects when the program does not exist', async () => {
    await expect(spawnProcessRunner.run('/nonexistent/btrfs', ['version'])).rejects.toMatchObject({
      exitCode: null,
      message: expect.stringMatching(/^`\/nonexistent\/btrfs version` could not run: .*ENOENT/),
    });
  });
});
