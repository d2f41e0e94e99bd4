/**
 * Progress of a transfer, as the library functions report it (runBackup's upload,
 * runRestore's download into `btrfs receive`). They draw nothing: the caller renders
 * the events, e.g. a bar on a terminal or a log line now and then under systemd.
 * Events carry counts so far, not rates or times: the renderer measures those with
 * its own clock.
 */
export interface ProgressEvent {
  /** A backup's upload of a send stream, or a restore's verified download. */
  readonly phase: 'upload' | 'download';
  readonly subvolume: string;
  /** Names this transfer among others of the same run, e.g. "data". */
  readonly label: string;
  /**
   * Bytes of the send stream done so far in this transfer: acknowledged by S3 (upload)
   * or verified and passed on (download). With compressed chunks the stored bytes differ
   * from the stream's; they are converted at the compression ratio seen so far (upload)
   * or the backup's own (download), so `bytes` and the totals share one unit.
   */
  readonly bytes: number;
  /**
   * The transfer's exact size, when known in advance: a restore's is its whole chain's
   * (from the manifests), so one transfer runs from the full to the last incremental.
   */
  readonly totalBytes?: number;
  /**
   * A guess at the size, when the exact one is not known (a send stream's never is): the
   * last published stream of the same subvolume and kind. The transfer may exceed it.
   * Absent when there is none (a first backup); never set together with `totalBytes`.
   */
  readonly estimatedTotalBytes?: number;
  /** Chunk objects done so far: completed by S3 (upload), or downloaded and verified. */
  readonly chunks: number;
  /** Parts done so far: acknowledged by S3 (upload), or verified and passed on (download). */
  readonly parts: number;
  /** S3 calls retried so far in this transfer. */
  readonly retries: number;
  /** The last event of this transfer, whether it succeeded or failed. */
  readonly done: boolean;
  /** Set on the last event when the transfer failed (or was interrupted): its bytes are where it stopped. */
  readonly failed?: boolean;
}

export type ProgressListener = (event: ProgressEvent) => void;
