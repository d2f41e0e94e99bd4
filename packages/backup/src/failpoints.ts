/**
 * The crash points of a backup, in the order a run reaches them. runBackup calls
 * `deps.failpoint(name)` at each; by default that does nothing. The CLI's test hook
 * (`BTRFS_TO_S3_FAILPOINT=<name>`) kills the process there with SIGKILL, the way a
 * power cut or the OOM killer would (`<name>#<n>`: at its n-th time), and the fault suite proves that a crash at
 * each point loses nothing and that the next run converges.
 */
export const FAILPOINTS = [
  /** The new snapshot exists; nothing is uploaded yet. */
  'backup:snapshot-created',
  /** A part is acknowledged and its resume record written (each time; the first: the first chunk's upload is open). */
  'backup:first-part-uploaded',
  /** A chunk object is complete and in the resume record, and more of the stream follows. */
  'backup:chunk-completed',
  /** Every chunk is uploaded; no manifest yet. */
  'backup:chunks-uploaded',
  /** The manifest is written; `current.json` still names the previous backup. */
  'backup:manifest-written',
  /** `current.json` names the new backup; local state does not yet. */
  'backup:pointer-written',
] as const;

export type Failpoint = (typeof FAILPOINTS)[number];
