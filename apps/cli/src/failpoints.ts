import type { Failpoint } from '@org/btrfs-s3-backup';

/** Names the crash point at which the process kills itself (the fault suite's hook). Unset in production. */
export const FAILPOINT_ENV = 'BTRFS_TO_S3_FAILPOINT';

/** The failpoint hook runBackup is given: SIGKILL at the named point, no `finally`, no cleanup. */
export function failpointFromEnv(env: NodeJS.ProcessEnv): (name: Failpoint) => void {
  const wanted = env[FAILPOINT_ENV];
  return (name) => {
    if (wanted === name) process.kill(process.pid, 'SIGKILL');
  };
}
