import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../exit-codes';
import { ActivityBusyError, withActivity } from './activity';
import type { ProcessProbe } from './process-probe';

const probe = (running: Record<number, string>): ProcessProbe => ({ startTime: async (pid) => running[pid] });
const registration = (pid: number, start: string) =>
  `${JSON.stringify({ pid, proc_start: start, host: 'h', started_at: '2026-12-06T02:00:00.000Z' })}\n`;

describe('withActivity', () => {
  let lock: string;
  beforeEach(async () => {
    lock = join(await mkdtemp(join(tmpdir(), 'activity-')), 'lock');
  });
  afterEach(() => rm(join(lock, '..'), { recursive: true, force: true }));

  it('runs the work registered beside the lock, and removes the registration after, also when the work throws', async () => {
    let seen: string[] = [];
    await withActivity(
      lock,
      'restore',
      async () => {
        seen = await readdir(join(lock, '..'));
      },
      { probe: probe({ 100: '1' }), pid: 100 },
    );
    expect(seen).toEqual(['lock.restore.100']);
    await expect(
      withActivity(lock, 'restore', () => Promise.reject(new Error('boom')), { probe: probe({ 100: '1' }), pid: 100 }),
    ).rejects.toThrow('boom');
    expect(await readdir(join(lock, '..'))).toEqual([]);
  });

  it.each([
    ['prune', 'restore'],
    ['restore', 'prune'],
  ] as const)('a %s refuses while a live %s is registered (exit 3), without running its work', async (activity, other) => {
    await withActivity(lock, other, async () => undefined, { probe: probe({}), pid: 1 }); // makes the directory
    await writeFile(`${lock}.${other}.200`, registration(200, '777'));
    let ran = false;

    const attempt = withActivity(
      lock,
      activity,
      async () => {
        ran = true;
      },
      { probe: probe({ 100: '1', 200: '777' }), pid: 100 },
    );

    await expect(attempt).rejects.toThrow(ActivityBusyError);
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.LockBusy });
    await expect(attempt).rejects.toThrow(`a ${other} is running on this host (PID 200`);
    expect(ran).toBe(false);
    expect(existsSync(`${lock}.${activity}.100`)).toBe(false);
  });

  it('creates no lock directory outside /run: on a host where none exists yet (a new host) it runs unregistered and writes nothing', async () => {
    const absent = join(lock, '..', 'state', 'lock');
    let ran = false;
    await withActivity(
      absent,
      'restore',
      async () => {
        ran = true;
      },
      { probe: probe({}), pid: 100 },
    );
    expect(ran).toBe(true);
    expect(existsSync(join(absent, '..'))).toBe(false);
  });

  it("removes a dead process's registration and runs; the same activity never excludes itself", async () => {
    await withActivity(lock, 'restore', async () => undefined, { probe: probe({}), pid: 1 });
    await writeFile(`${lock}.restore.200`, registration(200, '777')); // PID 200 reused by another process: dead
    await writeFile(`${lock}.prune.300`, registration(300, '888')); // alive, but a prune does not exclude a prune

    await withActivity(lock, 'prune', async () => undefined, { probe: probe({ 100: '1', 200: '999', 300: '888' }), pid: 100 });

    expect(existsSync(`${lock}.restore.200`)).toBe(false);
    expect(existsSync(`${lock}.prune.300`)).toBe(true);
  });
});
