import type { Failpoint } from '@org/btrfs-s3-backup';

/**
 * Names the crash point at which the process kills itself (the fault suite's hook), as
 * `<name>` (its first time) or `<name>#<n>` (its n-th time: after the second chunk, say).
 * Unset in production.
 */
export const FAILPOINT_ENV = 'BTRFS_TO_S3_FAILPOINT';

/** The failpoint hook runBackup is given: SIGKILL at the named point, no `finally`, no cleanup. */
export function failpointFromEnv(env: NodeJS.ProcessEnv): (name: Failpoint) => void {
  const [wanted, nth] = (env[FAILPOINT_ENV] ?? '').split('#');
  let remaining = nth === undefined ? 1 : Number(nth);
  return (name) => {
    if (wanted !== name) return;
    remaining -= 1;
    if (remaining === 0) process.kill(process.pid, 'SIGKILL');
  };
}
