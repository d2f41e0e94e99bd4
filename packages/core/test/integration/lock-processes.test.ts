import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../src/exit-codes';

/** A directory for one test's lock, removed after the file's tests. */
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lock-'));
  dirs.push(dir);
  return dir;
}

const HOLD = join(__dirname, '..', 'fixtures', 'hold-lock.js');

function start(lockPath: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [HOLD, lockPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stderr: () => stderr };
}

async function locked(child: ChildProcess): Promise<void> {
  const [line] = await once(child.stdout ?? child, 'data');
  expect(String(line)).toBe(`locked ${child.pid}\n`);
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, 'exit');
  return code;
}

describe('the lock between real processes', () => {
  it('turns a second run away with the busy code naming the holder, and recovers after kill -9', async () => {
    const lockPath = join(await tempDir(), 'btrfs_to_s3.lock');
    const first = start(lockPath);
    await locked(first.child);
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: first.child.pid });

    const second = start(lockPath);
    expect(await exitCode(second.child)).toBe(ExitCode.LockBusy);
    expect(second.stderr()).toContain(`another btrfs-to-s3 run holds the lock ${lockPath}: PID ${first.child.pid}`);

    first.child.kill('SIGKILL');
    await exitCode(first.child);
    expect(existsSync(lockPath)).toBe(true); // a crashed holder leaves its lock behind

    const third = start(lockPath);
    await locked(third.child);
    third.child.kill('SIGTERM');
    expect(await exitCode(third.child)).toBe(0);
    expect(existsSync(lockPath)).toBe(false); // released on SIGTERM
  });

  it('releases the lock on SIGINT', async () => {
    const lockPath = join(await tempDir(), 'btrfs_to_s3.lock');
    const holder = start(lockPath);
    await locked(holder.child);
    holder.child.kill('SIGINT');
    expect(await exitCode(holder.child)).toBe(0);
    expect(existsSync(lockPath)).toBe(false);
  });
});
