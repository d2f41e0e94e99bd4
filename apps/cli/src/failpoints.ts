/**
 * Crash points for the fault suite. With `BTRFS_TO_S3_FAILPOINT=<name>` in the
 * environment the process kills itself with SIGKILL when it reaches that point,
 * the way a power cut or the OOM killer would: no `finally`, no cleanup. The suite
 * uses this to prove a crash at each step of a backup loses nothing and that the
 * next run converges. Unset (always, in production), a failpoint does nothing.
 */
export const FAILPOINTS = [
  /** The new snapshot exists; nothing is uploaded yet. */
  'backup:snapshot-created',
  /** The first part of the first chunk is acknowledged; its multipart upload is open. */
  'backup:first-part-uploaded',
  /** A chunk object is complete and more of the stream follows. */
  'backup:chunk-completed',
  /** Every chunk is uploaded; no manifest yet. */
  'backup:chunks-uploaded',
  /** The manifest is written; `current.json` still names the previous backup. */
  'backup:manifest-written',
  /** `current.json` names the new backup; local state does not yet. */
  'backup:pointer-written',
] as const;

export type Failpoint = (typeof FAILPOINTS)[number];

export const FAILPOINT_ENV = 'BTRFS_TO_S3_FAILPOINT';

export function failpoint(name: Failpoint, env: NodeJS.ProcessEnv = process.env): void {
  if (env[FAILPOINT_ENV] === name) process.kill(process.pid, 'SIGKILL');
}
