/**
 * Progress of a transfer, as the library functions report it (runBackup's upload,
 * runRestore's download into `btrfs receive`). They draw nothing: the caller renders
 * the events, e.g. a bar on a terminal or a log line now and then under systemd.
 */
export interface ProgressEvent {
  /** A backup's upload of a send stream, or a restore's verified download. */
  readonly phase: 'upload' | 'download';
  readonly subvolume: string;
  /** Names this transfer among others of the same run, e.g. "data". */
  readonly label: string;
  /** Bytes done so far in this transfer. */
  readonly bytes: number;
  /**
   * The transfer's size when it is known in advance: a restore's is its whole chain's
   * (from the manifests), so one transfer runs from the full to the last incremental; a
   * send stream's is not known.
   */
  readonly totalBytes?: number;
  /** The last event of this transfer, whether it succeeded or failed. */
  readonly done: boolean;
}

export type ProgressListener = (event: ProgressEvent) => void;
