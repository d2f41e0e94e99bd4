import type { S3Client } from '@aws-sdk/client-s3';
import type { Btrfs, SnapshotManager } from '@org/btrfs-s3-btrfs';
import type { Config, Logger, ProgressListener, Writer } from '@org/btrfs-s3-core';
import type { S3Bucket } from '@org/btrfs-s3-store';
import type { Failpoint } from './failpoints';

/** What runBackup reaches Btrfs and S3 through; each defaults to the real one (tests inject fakes). */
export interface BackupDeps {
  /** Default: btrfs-progs through spawnProcessRunner. */
  readonly btrfs?: Btrfs;
  /** Default: a SnapshotManager over `btrfs` in `snapshots.base_dir`. */
  readonly snapshots?: SnapshotManager;
  /**
   * Made from `config.s3` when absent, and destroyed when the run ends. One given here is left
   * open; make it with `createS3Client` (@org/btrfs-s3-store) to keep the timeouts and the
   * one retry loop the config sets (a plain S3Client retries underneath them).
   */
  readonly client?: S3Client;
  readonly now?: () => Date;
  /** Called at each crash point of a backup (the fault suite kills the process there); does nothing by default. */
  readonly failpoint?: (name: Failpoint) => void;
  /** Recorded in every manifest (`tool.version`); default this package's version. */
  readonly toolVersion?: string;
  /** This host as a writer (manifests and current.json record it); default from /etc/machine-id (writerIdentity). */
  readonly writer?: Writer;
}

/** BackupOptions resolved: what a run uses inside. */
export interface BackupContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly btrfs: Btrfs;
  readonly snapshots: SnapshotManager;
  /** The run's one bucket handle: the client, `config.s3`'s bucket, SSE and retry policy, and `signal`. */
  readonly bucket: S3Bucket;
  readonly now: () => Date;
  readonly signal: AbortSignal;
  readonly onProgress: ProgressListener;
  readonly failpoint: (name: Failpoint) => void;
  readonly toolVersion: string;
  readonly writer: Writer;
  /**
   * Each configured subvolume's current.json ETag as the run read it at its start (null:
   * none existed); its replacement is written only if it is still that (If-Match), or
   * still absent (If-None-Match), so a writer that slipped in meanwhile is not overwritten.
   */
  readonly pointerEtags: Map<string, string | null>;
  /** The same reads' texts (null: none existed): the recovery after them reads no pointer again. */
  readonly pointerTexts: Map<string, string | null>;
}
