import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Where a run keeps its state, metrics and lock when the config does not say. Root (the
 * service) follows the FHS: persistent state under /var/lib, the lock under /run. Anyone
 * else (a `status` or `plan` by hand, tests) uses the XDG state directory in their home.
 * Earlier releases kept root's state in root's home and its lock in /var/lock; those are
 * the legacy defaults below, still found during an upgrade (legacy-paths.ts).
 */
export const ROOT_STATE_DIR = '/var/lib/btrfs-to-s3';
export const DEFAULT_LOCK_PATH = '/run/btrfs-to-s3/lock';

/**
 * The state directory an earlier release used as the default, for root as for anyone:
 * `~/.local/state/btrfs_to_s3`. Root's home comes from the password database, not $HOME,
 * so `sudo -E` cannot point root at a user's files.
 */
export const legacyStateDir = (uid: number | undefined = process.geteuid?.()): string =>
  join(uid === 0 ? userInfo().homedir : homedir(), '.local', 'state', 'btrfs_to_s3');

/** Earlier releases' default lock files: a run of the old version may hold one while the new version is installed. */
export const LEGACY_LOCK_PATHS: readonly string[] = ['/var/lock/btrfs_to_s3.lock'];

/** The default directory of `global.state_path` and `global.metrics_path` for this user. */
export function defaultStateDir(uid: number | undefined = process.geteuid?.()): string {
  return uid === 0 ? ROOT_STATE_DIR : legacyStateDir(uid);
}
