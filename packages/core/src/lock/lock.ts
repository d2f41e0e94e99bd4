import { crypto } from '../lazy-crypto';
import { access, link, lstat, mkdir, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { constants as fsConstants, unlinkSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as v from 'valibot';
import { dirname } from 'node:path';
import { BtrfsToS3Error, errnoCode } from '../errors';
import { ExitCode } from '../exit-codes';
import { procfsProbe, type ProcessProbe } from './process-probe';
import { DEFAULT_LOCK_PATH, LEGACY_LOCK_PATHS } from '../config/default-paths';

/**
 * One run at a time per host. The lock file holds the holder's PID, its process
 * start time and when it took the lock. A lock whose holder is gone (crash,
 * `kill -9`) is recovered automatically; a live holder's lock never expires,
 * however long it runs.
 *
 * Not built on the `lockfile` package: it detects stale locks by file age only,
 * so it cannot record the holder, and a days-long run would either lose its lock
 * or a crashed run's lock would block the next one until the age ran out.
 */
export interface LockInfo {
  readonly pid: number;
  readonly proc_start: string | null;
  readonly host: string;
  readonly started_at: string;
}

export class LockBusyError extends BtrfsToS3Error {
  constructor(
    readonly path: string,
    readonly holder: LockInfo | undefined,
  ) {
    const who =
      holder === undefined ? 'another process (its lock file is being written)' : `PID ${holder.pid} (since ${holder.started_at})`;
    super(`another btrfs-to-s3 run holds the lock ${path}: ${who}`, { exitCode: ExitCode.LockBusy });
  }
}

export class LockError extends BtrfsToS3Error {
  constructor(message: string, cause?: unknown) {
    super(message, { exitCode: ExitCode.Fatal, cause });
  }
}

export interface LockHandle {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock if it is still ours. Safe to call more than once. */
  release(): Promise<void>;
  /** The same, synchronously, for `process.on('exit')`. */
  releaseSync(): void;
}

export interface LockOptions {
  readonly probe?: ProcessProbe;
  readonly pid?: number;
  readonly now?: () => Date;
  /** The user this process runs as (default: its effective uid). Root refuses a lock directory or file that root does not own. */
  readonly uid?: number;
  /**
   * Other lock files whose live holder also holds this lock: an earlier release's default
   * lock (LEGACY_LOCK_PATHS) when `path` is today's default, none otherwise.
   */
  readonly legacyPaths?: readonly string[];
  /**
   * Where to take the lock when `path`'s directory is on a read-only filesystem: by
   * default, for today's default path, the earlier release's (see acquireLock).
   */
  readonly fallback?: string;
  /** Told when the lock falls back. */
  readonly warn?: (message: string) => void;
}

/** A half-written lock or recovery marker older than this belongs to a dead process. */
const ABANDONED_AFTER_MS = 30_000;

const LockInfoSchema = v.object({
  pid: v.pipe(v.number(), v.integer()),
  proc_start: v.optional(v.nullable(v.string()), null),
  host: v.optional(v.string(), ''),
  started_at: v.optional(v.string(), ''),
});

/** The holder recorded in a lock file, or undefined if the content is not a lock. */
function parseLock(text: string): LockInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // unreadable content: the caller treats the file as having no valid holder
  }
  const result = v.safeParse(LockInfoSchema, value);
  return result.success ? result.output : undefined;
}

export async function readHolder(path: string): Promise<{ text: string; info: LockInfo | undefined } | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    return { text, info: parseLock(text) };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw new LockError(`cannot read lock file ${path}: ${errnoCode(error) ?? String(error)}`, error);
  }
}

export async function isAlive(info: LockInfo, probe: ProcessProbe): Promise<boolean> {
  const start = await probe.startTime(info.pid);
  return start !== undefined && (info.proc_start === null || info.proc_start === start);
}

async function ageMs(path: string, now: Date): Promise<number> {
  try {
    return now.getTime() - (await stat(path)).mtimeMs;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    throw error;
  }
}

/** Creates `path` with `content` only if it does not exist, never exposing a half-written file. */
/**
 * A root run trusts its lock only if root owns it: in a directory others may write (the
 * old default, world-writable /run/lock), a user could plant a lock file to stop every
 * backup, or a symlink. The default lives in /run/btrfs-to-s3, made mode 0700.
 */
async function assertRootOwned(path: string, what: 'directory' | 'file'): Promise<void> {
  let found;
  try {
    found = await lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return; // released meanwhile
    throw error;
  }
  const wrongType = what === 'directory' ? !found.isDirectory() : !found.isFile();
  if (found.uid !== 0 || wrongType) {
    const kind = found.isSymbolicLink() ? 'a symbolic link' : wrongType ? `not a ${what}` : `owned by uid ${found.uid}, not root`;
    throw new LockError(
      `refusing the lock ${what} ${path} (global.lock_path): it is ${kind}, so another user could block or take over runs; remove it (btrfs-to-s3 recreates it, root-only)`,
    );
  }
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${crypto().randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, content, { mode: 0o644 });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp);
  }
}

/**
 * Removes a stale lock. Recoverers serialize on a `.recover` marker, and re-check
 * the lock under it, so two runs recovering at once cannot delete a fresh lock.
 */
async function removeStale(path: string, staleText: string, now: Date): Promise<void> {
  const marker = `${path}.recover`;
  if (!(await createExclusive(marker, String(process.pid)))) {
    if ((await ageMs(marker, now)) < ABANDONED_AFTER_MS) return; // someone else is recovering; the caller retries
    await unlink(marker).catch(() => undefined); // a recoverer died; another may have removed it first
    return;
  }
  try {
    const current = await readHolder(path);
    if (current?.text === staleText) await unlink(path);
  } finally {
    await unlink(marker);
  }
}

/**
 * Takes the lock at `path`. Today's default lives in /run/btrfs-to-s3, which units
 * rendered by an earlier release leave read-only (they granted /var/lock instead): there
 * a run takes that release's lock, says to install the units again, and still counts a
 * live holder of today's lock as running, so a run never stops for an upgrade.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<LockHandle> {
  try {
    return await acquireAt(path, legacyPathsOf(path, options), options);
  } catch (error) {
    const fallback = options.fallback ?? (path === DEFAULT_LOCK_PATH ? LEGACY_LOCK_PATHS[0] : undefined);
    if (fallback === undefined || !(error instanceof LockError) || !(await onReadOnlyFilesystem(dirname(path)))) throw error;
    options.warn?.(
      `the lock directory ${dirname(path)} cannot be made (read-only: the systemd units predate this release); using ${fallback}, as the earlier release did; run \`btrfs-to-s3 systemd install\` again`,
    );
    return acquireAt(fallback, [path], options);
  }
}

/**
 * Whether `dir`, or the nearest part of it that exists, is on a read-only filesystem. Asked
 * directly: a recursive mkdir there fails with ENOENT, not EROFS.
 */
async function onReadOnlyFilesystem(dir: string): Promise<boolean> {
  for (let current = dir; ; current = dirname(current)) {
    try {
      await access(current, fsConstants.W_OK);
      return false;
    } catch (error) {
      if (errnoCode(error) === 'EROFS') return true;
      if (errnoCode(error) !== 'ENOENT' || current === dirname(current)) return false;
    }
  }
}

/** Takes the lock file at `path`, then checks that no live process holds one of `others` (see trustedHolder). */
async function acquireAt(path: string, others: readonly string[], options: LockOptions): Promise<LockHandle> {
  const probe = options.probe ?? procfsProbe;
  const pid = options.pid ?? process.pid;
  const now = options.now ?? (() => new Date());
  const info: LockInfo = { pid, proc_start: (await probe.startTime(pid)) ?? null, host: hostname(), started_at: now().toISOString() };
  const content = `${JSON.stringify(info)}\n`;
  const uid = options.uid ?? process.geteuid?.();
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    if (uid === 0) await assertRootOwned(dirname(path), 'directory');
    for (let attempt = 0; attempt < 5; attempt += 1) {
      if (await createExclusive(path, content)) {
        const taken = handle(path, info, content);
        const other = await otherHolder(others, probe).catch(async (error: unknown) => {
          await taken.release();
          throw error;
        });
        if (other === undefined) return taken;
        await taken.release();
        throw new LockBusyError(other.path, other.info);
      }
      if (uid === 0) await assertRootOwned(path, 'file');
      const holder = await readHolder(path);
      if (holder === undefined) continue; // released between our attempts
      if (holder.info !== undefined && (await isAlive(holder.info, probe))) throw new LockBusyError(path, holder.info);
      if (holder.info === undefined && (await ageMs(path, now())) < ABANDONED_AFTER_MS) throw new LockBusyError(path, undefined);
      await removeStale(path, holder.text, now());
    }
  } catch (error) {
    if (error instanceof BtrfsToS3Error) throw error;
    throw new LockError(`cannot take lock ${path} (global.lock_path): ${errnoCode(error) ?? String(error)}`, error);
  }
  throw new LockError(`cannot take lock ${path}: it kept changing while recovering a stale lock`);
}

function handle(path: string, info: LockInfo, content: string): LockHandle {
  let released = false;
  return {
    path,
    info,
    async release() {
      if (released) return;
      released = true;
      const current = await readHolder(path);
      if (current?.text === content) await unlink(path);
    },
    releaseSync() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(path, 'utf8') === content) unlinkSync(path);
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error;
      }
    },
  };
}

/** Who holds the lock now, if anyone alive does (for `status`), an earlier release's run included. */
export async function lockHolder(
  path: string,
  probe: ProcessProbe = procfsProbe,
  options: Pick<LockOptions, 'legacyPaths'> = {},
): Promise<LockInfo | undefined> {
  const holder = await readHolder(path);
  if (holder?.info !== undefined && (await isAlive(holder.info, probe))) return holder.info;
  return (await otherHolder(legacyPathsOf(path, options), probe))?.info;
}

const legacyPathsOf = (path: string, options: Pick<LockOptions, 'legacyPaths'>) =>
  options.legacyPaths ?? (path === DEFAULT_LOCK_PATH ? LEGACY_LOCK_PATHS : []);

/** A lock file holds a few dozen bytes; anything larger is not one. */
const MAX_LOCK_BYTES = 4096;

/**
 * A live holder of one of `paths`: an earlier release's default lock (its run still counts
 * as running while the new version is installed under it), or today's, seen from the
 * fallback. Checked after taking our own lock, so two new runs exclude each other as
 * before. Trusted only as a regular file root owns, opened without following a link or
 * waiting on a FIFO: /run/lock is world-writable, and whatever another user put there
 * must neither stop nor hang a backup. A holder that is gone is left alone (not ours).
 */
async function otherHolder(paths: readonly string[], probe: ProcessProbe): Promise<{ path: string; info: LockInfo } | undefined> {
  for (const path of paths) {
    const info = await trustedLock(path);
    if (info !== undefined && (await isAlive(info, probe))) return { path, info };
  }
  return undefined;
}

async function trustedLock(path: string): Promise<LockInfo | undefined> {
  let file;
  try {
    file = await open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ELOOP') return undefined; // none, or a symbolic link: not a lock
    throw new LockError(`cannot read lock file ${path}: ${code ?? String(error)}`, error);
  }
  try {
    const found = await file.stat();
    if (!found.isFile() || found.uid !== 0 || found.size > MAX_LOCK_BYTES) return undefined;
    return parseLock(await file.readFile('utf8'));
  } finally {
    await file.close();
  }
}

/**
 * Runs `fn` holding the lock at `path`, and releases it however `fn` ends. If the
 * process exits without unwinding (process.exit from elsewhere), the file is still
 * removed on 'exit'; a SIGKILL leaves it for the next run's stale-lock recovery.
 */
export async function withLock<T>(path: string, fn: (lock: LockHandle) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(path, options);
  const releaseOnExit = () => lock.releaseSync();
  process.once('exit', releaseOnExit);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
    process.removeListener('exit', releaseOnExit);
  }
}
