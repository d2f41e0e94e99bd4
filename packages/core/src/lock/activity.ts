import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { BtrfsToS3Error, errnoCode } from '../errors';
import { ExitCode } from '../exit-codes';
import { isAlive, type LockInfo, readHolder } from './lock';
import { procfsProbe, type ProcessProbe } from './process-probe';

/**
 * What runs beside the host lock without taking it: a restore (which may wait days on a
 * thaw, and must not stop the daily backup meanwhile) and a prune (which holds the
 * lock). The two exclude each other: a prune could delete what a restore reads.
 */
export type Activity = 'restore' | 'prune';

const EXCLUDES: Readonly<Record<Activity, Activity>> = { restore: 'prune', prune: 'restore' };

/** A live activity this one must not run beside; exit 3, like a busy lock. */
export class ActivityBusyError extends BtrfsToS3Error {
  constructor(
    readonly activity: Activity,
    readonly other: Activity,
    readonly holder: LockInfo,
  ) {
    const why =
      other === 'restore' ? 'pruning could delete what the restore is reading' : 'the prune could delete what this restore would read';
    super(
      `a ${other} is running on this host (PID ${holder.pid}, since ${holder.started_at}), so this ${activity} waits: ${why}; run it again when that ${other} has finished`,
      {
        exitCode: ExitCode.LockBusy,
      },
    );
  }
}

export interface ActivityOptions {
  readonly probe?: ProcessProbe;
  readonly pid?: number;
  readonly now?: () => Date;
}

/**
 * Runs `fn` registered as `activity` beside the lock at `lockPath` (a file
 * `<lock>.<activity>.<pid>` holding the PID and its start time), after checking that no
 * live process is registered as the activity it excludes. Registering first and checking
 * second means two that start at once both see each other: at worst both refuse, never
 * both run. Registrations of dead processes are removed. An unprivileged process that
 * cannot write the lock directory (a `restore --stdout` as a user) runs unregistered: it
 * could not prune either; so does one whose lock directory, outside /run, does not exist
 * yet (no backup or prune has run on this host).
 */
export async function withActivity<T>(
  lockPath: string,
  activity: Activity,
  fn: () => Promise<T>,
  options: ActivityOptions = {},
): Promise<T> {
  const probe = options.probe ?? procfsProbe;
  const pid = options.pid ?? process.pid;
  const info: LockInfo = {
    pid,
    proc_start: (await probe.startTime(pid)) ?? null,
    host: hostname(),
    started_at: (options.now ?? (() => new Date()))().toISOString(),
  };
  const own = `${lockPath}.${activity}.${pid}`;
  try {
    // Only a runtime directory is made here: elsewhere, a lock directory that does not exist
    // yet is persistent state no backup or prune has made, and a restore on a new host
    // writes nothing outside its target.
    if (isWithin(dirname(lockPath), '/run')) await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
    await writeFile(own, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  } catch (error) {
    if (['EACCES', 'EPERM', 'EROFS', 'ENOENT'].includes(errnoCode(error) ?? '')) return fn();
    throw error;
  }
  try {
    await assertNoneLive(lockPath, EXCLUDES[activity], activity, probe);
    return await fn();
  } finally {
    await unlink(own).catch(() => undefined);
  }
}

function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function assertNoneLive(lockPath: string, other: Activity, activity: Activity, probe: ProcessProbe): Promise<void> {
  const prefix = `${basename(lockPath)}.${other}.`;
  for (const name of await readdir(dirname(lockPath))) {
    if (!name.startsWith(prefix)) continue;
    const path = join(dirname(lockPath), name);
    const holder = await readHolder(path);
    if (holder?.info !== undefined && (await isAlive(holder.info, probe))) throw new ActivityBusyError(activity, other, holder.info);
    if (holder !== undefined) await unlink(path).catch(() => undefined); // a dead process's registration
  }
}
