import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { exitError, lastMeaningfulLine, ProcessError } from '@org/btrfs-s3-core';
import { spawnProcessRunner, STDERR_LIMIT } from './process-runner';

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
    await expect(attempt).rejects.toMatchObject({
      exitCode: 3,
      stderr: 'first\nlast\n',
      message: '`sh -c echo first >&2; echo last >&2; exit 3` exited with code 3: last',
    });
  });

  it('rejects when the program does not exist', async () => {
    await expect(spawnProcessRunner.run('/nonexistent/btrfs', ['version'])).rejects.toMatchObject({
      exitCode: null,
      message: expect.stringMatching(/^`\/nonexistent\/btrfs version` could not run: .*ENOENT/),
    });
  });

  it('kills the program when its abort signal fires, instead of waiting for it to finish', async () => {
    const controller = new AbortController();
    // Would run for ten minutes, well past the test's timeout, unless the abort ends it.
    const run = spawnProcessRunner.run('sleep', ['600'], { signal: controller.signal });
    controller.abort(new Error('interrupted'));
    await expect(run).rejects.toThrow('`sleep 600` was killed by SIGTERM');
    await expect(run).rejects.toBeInstanceOf(ProcessError);
  });
});

describe('spawnProcessRunner.spawn', () => {
  it('streams stdin to the program and its stdout back, then reports exit 0 and stderr', async () => {
    const child = spawnProcessRunner.spawn('sh', ['-c', 'cat; echo done >&2']);
    const output = text(child.stdout);
    await pipeline(Readable.from(['hello ', 'world']), child.stdin);
    await expect(output).resolves.toBe('hello world');
    await expect(child.completion).resolves.toEqual({ exitCode: 0, signal: null, stderr: 'done\n' });
  });

  it('reports a non-zero exit with stderr instead of rejecting', async () => {
    const child = spawnProcessRunner.spawn('sh', ['-c', 'echo ERROR: broken >&2; exit 4']);
    child.stdin.end();
    child.stdout.resume();
    await expect(child.completion).resolves.toEqual({ exitCode: 4, signal: null, stderr: 'ERROR: broken\n' });
  });

  it('keeps only the last STDERR_LIMIT bytes of a chatty program', async () => {
    const child = spawnProcessRunner.spawn('sh', ['-c', 'head -c 300000 /dev/zero | tr "\\0" x >&2; echo >&2; echo ERROR: last >&2']);
    child.stdin.end();
    child.stdout.resume();
    const exit = await child.completion;
    expect(exit.stderr.length).toBe(STDERR_LIMIT);
    expect(exit.stderr.endsWith('xxx\nERROR: last\n')).toBe(true);
  });

  it('reports a program that cannot start as exit code null with the spawn error', async () => {
    const child = spawnProcessRunner.spawn('/nonexistent/btrfs', ['version']);
    const exit = await child.completion;
    expect(exit).toMatchObject({ exitCode: null, error: { code: 'ENOENT' } });
    expect(exitError('/nonexistent/btrfs', ['version'], exit)?.message).toMatch(/^`\/nonexistent\/btrfs version` could not run: .*ENOENT/);
  });

  it('kills the program with SIGTERM on kill()', async () => {
    const child = spawnProcessRunner.spawn('sleep', ['60']);
    child.kill();
    await expect(child.completion).resolves.toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect(child.pid).toEqual(expect.any(Number));
  });

  it('kills the program when its abort signal fires', async () => {
    const abort = new AbortController();
    const child = spawnProcessRunner.spawn('sleep', ['60'], { signal: abort.signal });
    abort.abort();
    await expect(child.completion).resolves.toMatchObject({ signal: 'SIGTERM', error: { name: 'AbortError' } });
  });
});

describe('exitError', () => {
  it('is undefined for exit 0', () => {
    expect(exitError('btrfs', ['send', '/s'], { exitCode: 0, signal: null, stderr: 'At subvol /s\n' })).toBeUndefined();
  });

  it("names the command and btrfs-progs' last ERROR line, not the trailing noise", () => {
    const stderr = 'At subvol /s\nERROR: send ioctl failed with -22: Invalid argument\nusage: btrfs send [-ve] [-p <parent>] <subvol>\n';
    expect(exitError('btrfs', ['send', '/s'], { exitCode: 1, signal: null, stderr })?.message).toBe(
      '`btrfs send /s` exited with code 1: ERROR: send ioctl failed with -22: Invalid argument',
    );
  });

  it('names the signal that killed the program', () => {
    expect(exitError('btrfs', ['receive', '/t'], { exitCode: null, signal: 'SIGKILL', stderr: '' })?.message).toBe(
      '`btrfs receive /t` was killed by SIGKILL',
    );
  });
});

describe('lastMeaningfulLine', () => {
  it('falls back to the last non-empty line when there is no ERROR line', () => {
    expect(lastMeaningfulLine('first\n  last  \n\n')).toBe('last');
    expect(lastMeaningfulLine('')).toBe('');
  });
});
