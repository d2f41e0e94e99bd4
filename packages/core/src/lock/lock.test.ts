import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { chown, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../exit-codes';
import { acquireLock, LockBusyError, LockError, lockHolder, withLock } from './lock';
import { procfsProbe, type ProcessProbe } from './process-probe';

const run = (command: string, args: readonly string[]) => promisify(execFile)(command, args);

/** Processes that exist, by PID, with their start times. */
function probe(running: Record<number, string>): ProcessProbe {
  return { startTime: async (pid) => running[pid] };
}

describe('acquireLock', () => {
  let path: string;
  beforeEach(async () => {
    path = join(await mkdtemp(join(tmpdir(), 'lock-')), 'run.lock');
  });
  afterEach(() => rm(join(path, '..'), { recursive: true, force: true }));

  it('writes the PID, process start time, host and start time, and releases only once', async () => {
    const lock = await acquireLock(path, { probe: probe({ 100: '555' }), pid: 100, now: () => new Date('2026-11-25T02:00:00Z') });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      pid: 100,
      proc_start: '555',
      host: expect.any(String),
      started_at: '2026-11-25T02:00:00.000Z',
    });
    await lock.release();
    expect(existsSync(path)).toBe(false);
    await expect(lock.release()).resolves.toBeUndefined();
  });

  it('refuses while a live holder has it, naming the PID, with the busy exit code', async () => {
    const running = probe({ 100: '555', 200: '777' });
    await acquireLock(path, { probe: running, pid: 100 });
    const attempt = acquireLock(path, { probe: running, pid: 200 });
    await expect(attempt).rejects.toThrow(LockBusyError);
    await expect(attempt).rejects.toThrow(/holds the lock .*run\.lock: PID 100 \(since /);
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.LockBusy });
  });

  it('recovers the lock of a holder that died', async () => {
    await acquireLock(path, { probe: probe({ 100: '555' }), pid: 100 });
    const lock = await acquireLock(path, { probe: probe({ 200: '777' }), pid: 200 });
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(200);
    expect(lock.info.pid).toBe(200);
  });

  it('recovers the lock when the PID was reused by another process', async () => {
    await acquireLock(path, { probe: probe({ 100: '555' }), pid: 100 });
    await acquireLock(path, { probe: probe({ 100: '999', 200: '777' }), pid: 200 });
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(200);
  });

  it('never expires a live holder, however old its lock', async () => {
    const running = probe({ 100: '555', 200: '777' });
    await acquireLock(path, { probe: running, pid: 100, now: () => new Date('2026-01-01T00:00:00Z') });
    await utimes(path, new Date('2026-01-01'), new Date('2026-01-01'));
    await expect(acquireLock(path, { probe: running, pid: 200 })).rejects.toThrow(LockBusyError);
  });

  it('treats unreadable content as busy while fresh and as stale once abandoned', async () => {
    await writeFile(path, 'garbage');
    const running = probe({ 200: '777' });
    await expect(acquireLock(path, { probe: running, pid: 200 })).rejects.toThrow('another process (its lock file is being written)');
    const later = () => new Date(Date.now() + 60_000);
    await expect(acquireLock(path, { probe: running, pid: 200, now: later })).resolves.toMatchObject({ info: { pid: 200 } });
  });

  it('release leaves a lock that is no longer ours', async () => {
    const lock = await acquireLock(path, { probe: probe({ 100: '555' }), pid: 100 });
    await writeFile(path, JSON.stringify({ pid: 300, proc_start: '1', host: 'h', started_at: 'x' }));
    await lock.release();
    expect(existsSync(path)).toBe(true);
    lock.releaseSync();
    expect(existsSync(path)).toBe(true);
  });

  it('releaseSync removes our own lock', async () => {
    const lock = await acquireLock(path, { probe: probe({ 100: '555' }), pid: 100 });
    lock.releaseSync();
    expect(existsSync(path)).toBe(false);
  });

  it('names the lock path and the config key when the lock cannot be created', async () => {
    await writeFile(join(path, '..', 'file'), '');
    const bad = join(path, '..', 'file', 'run.lock');
    await expect(acquireLock(bad, { probe: probe({}) })).rejects.toThrow(LockError);
    await expect(acquireLock(bad, { probe: probe({}) })).rejects.toThrow(`cannot take lock ${bad} (global.lock_path): EEXIST`);
  });

  it('makes a missing lock directory root-only (mode 0700)', async () => {
    const nested = join(path, '..', 'run', 'btrfs-to-s3', 'lock');
    await (await acquireLock(nested, { probe: probe({}), uid: 0 })).release();
    expect((await stat(join(nested, '..'))).mode & 0o777).toBe(0o700);
  });

  it.each([
    [
      'a lock file another user planted',
      async (lock: string) => writeFile(lock, 'planted').then(() => chown(lock, 65534, 65534)),
      'file',
      'owned by uid 65534, not root',
    ],
    ['a symbolic link in place of the lock file', async (lock: string) => symlink('/etc/passwd', lock), 'file', 'a symbolic link'],
    [
      'a lock directory another user owns',
      async (lock: string) => chown(join(lock, '..'), 65534, 65534),
      'directory',
      'owned by uid 65534, not root',
    ],
  ])('as root, refuses %s, loudly, and leaves it alone', async (_name, plant, what, kind) => {
    await plant(path);

    const attempt = acquireLock(path, { probe: probe({}), uid: 0 });

    await expect(attempt).rejects.toThrow(LockError);
    await expect(attempt).rejects.toThrow(
      `refusing the lock ${what} ${what === 'file' ? path : join(path, '..')} (global.lock_path): it is ${kind}`,
    );
    if (what === 'file') expect((await lstat(path)).uid === 65534 || (await lstat(path)).isSymbolicLink()).toBe(true);
  });

  it('reports the live holder for status, and nobody for a dead one', async () => {
    await acquireLock(path, { probe: probe({ 100: '555' }), pid: 100 });
    await expect(lockHolder(path, probe({ 100: '555' }))).resolves.toMatchObject({ pid: 100 });
    await expect(lockHolder(path, probe({}))).resolves.toBeUndefined();
    await expect(lockHolder(join(path, '..', 'none.lock'), probe({}))).resolves.toBeUndefined();
  });

  it('counts a live run of an earlier release, holding its old default lock, as holding this one', async () => {
    const legacy = join(path, '..', 'old-default.lock');
    const legacyPaths = [legacy];
    await acquireLock(legacy, { probe: probe({ 100: '555' }), pid: 100 }); // the old version's run
    const running = probe({ 100: '555', 200: '777' });

    const attempt = acquireLock(path, { probe: running, pid: 200, legacyPaths });
    await expect(attempt).rejects.toThrow(LockBusyError);
    await expect(attempt).rejects.toThrow(/holds the lock .*old-default\.lock: PID 100/);
    expect(existsSync(path)).toBe(false); // today's lock, taken first, was given back
    await expect(lockHolder(path, running, { legacyPaths })).resolves.toMatchObject({ pid: 100 });

    // Once the old run is gone, its file is not in the way (and not ours to remove).
    const lock = await acquireLock(path, { probe: probe({ 200: '777' }), pid: 200, legacyPaths });
    expect(lock.info.pid).toBe(200);
    expect(existsSync(legacy)).toBe(true);
  });
});

describe('lock files another user may have planted, and a read-only lock directory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lock-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const running = probe({ 1: '1', 200: '777' });

  it.each([
    ['owned by another user', async (path: string) => (await writeFile(path, '{"pid":1,"proc_start":"1"}'), chown(path, 65534, 65534))],
    ['a symbolic link', (path: string) => symlink('/proc/1/stat', path)],
    ['a FIFO (a read would wait forever)', (path: string) => run('mkfifo', [path])],
  ])('ignores an earlier release lock that is %s', async (_kind, plant) => {
    const legacy = join(dir, 'old-default.lock');
    await plant(legacy);
    const lock = await acquireLock(join(dir, 'run.lock'), { probe: running, pid: 200, legacyPaths: [legacy] });
    expect(lock.info.pid).toBe(200);
    await expect(lockHolder(join(dir, 'none.lock'), running, { legacyPaths: [legacy] })).resolves.toBeUndefined();
  });

  it('takes the fallback lock where the lock directory is read-only, says so, and still sees a holder of the usual one', async () => {
    const readOnly = join(dir, 'run');
    await mkdir(readOnly);
    await run('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]);
    try {
      const warnings: string[] = [];
      const path = join(readOnly, 'btrfs-to-s3', 'lock');
      const fallback = join(dir, 'old-default.lock');
      const lock = await acquireLock(path, { probe: running, pid: 200, fallback, warn: (line) => void warnings.push(line) });
      expect(lock.path).toBe(fallback);
      expect(warnings.join('')).toMatch(/cannot be made .*using .*old-default\.lock.*systemd install/);
      await expect(acquireLock(path, { probe: running, pid: 300, fallback })).rejects.toThrow(LockBusyError);
      await lock.release();
    } finally {
      await run('umount', [readOnly]);
    }
  });
});

describe('withLock', () => {
  let path: string;
  beforeEach(async () => {
    path = join(await mkdtemp(join(tmpdir(), 'lock-')), 'run.lock');
  });
  afterEach(() => rm(join(path, '..'), { recursive: true, force: true }));

  it('holds the lock while the work runs and releases it after, returning its result', async () => {
    const result = await withLock(path, async () => {
      expect(existsSync(path)).toBe(true);
      return 42;
    });
    expect(result).toBe(42);
    expect(existsSync(path)).toBe(false);
  });

  it('releases the lock when the work throws, and rethrows', async () => {
    const exitListeners = process.listenerCount('exit');
    await expect(withLock(path, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(path)).toBe(false);
    expect(process.listenerCount('exit')).toBe(exitListeners);
  });
});

describe('procfsProbe', () => {
  it('knows this process and not a PID that cannot exist', async () => {
    expect(await procfsProbe.startTime(process.pid)).toMatch(/^\d+$/);
    expect(await procfsProbe.startTime(2 ** 30)).toBeUndefined();
  });
});
