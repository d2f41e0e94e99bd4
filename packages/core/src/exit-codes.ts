/**
 * Process exit codes, one table for every command (documented in docs/exit-codes.md).
 * Chosen to fit systemd and cron: 0 is success, everything else needs attention.
 */
export const ExitCode = {
  /** Everything asked for was done. */
  Success: 0,
  /** An unexpected or unrecoverable failure; nothing was published by the failing step. */
  Fatal: 1,
  /** Bad flags, arguments or configuration; nothing was done. */
  Usage: 2,
  /** Another run holds the lock; nothing was done. */
  LockBusy: 3,
  /** Some subvolumes succeeded and some failed. */
  PartialFailure: 4,
  /** Archived objects are still being restored (thawed); run the same restore later. */
  RestorePending: 5,
  /** Stopped by SIGINT (Ctrl-C; 128 + 2, as a shell reports it): the work in progress was rolled back. */
  Interrupted: 130,
  /** Stopped by SIGTERM (systemctl stop, a shutdown; 128 + 15): the work in progress was rolled back. */
  Terminated: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
