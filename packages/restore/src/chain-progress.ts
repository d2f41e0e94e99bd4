import type { Manifest, ProgressListener } from '@org/btrfs-s3-core';

/** What progress needs of a manifest: its stream and stored sizes, and its chunks'. */
export type LinkSizes = Pick<Manifest, 'total_bytes' | 'stored_bytes'> & { readonly chunks: readonly { readonly size: number }[] };

/**
 * A restore's progress, reported over its whole chain as one transfer, so its total
 * and time left are the restore's: the chain's send-stream bytes, exact from the
 * manifests. Counts (chunks, parts, retries) run on across the chain's backups.
 */
export class ChainProgress {
  private readonly totalBytes: number;
  private chunks = 0;
  private parts = 0;
  private retries = 0;
  private bytes = 0;
  private ended = false;

  constructor(
    private readonly listener: ProgressListener,
    private readonly subvolume: string,
    manifests: readonly LinkSizes[],
  ) {
    this.totalBytes = manifests.reduce((sum, manifest) => sum + manifest.total_bytes, 0);
  }

  /** One backup of the chain, starting where the previous one ended; `last` ends the transfer. */
  link(manifest: LinkSizes, last: boolean): LinkProgress {
    const offset = this.bytes;
    // Downloads count stored bytes; a compressed backup's stream is larger or smaller than what is stored.
    const toStream = (stored: number) =>
      manifest.stored_bytes === 0 ? 0 : Math.round((stored * manifest.total_bytes) / manifest.stored_bytes);
    const chunkEnds: number[] = [];
    for (const chunk of manifest.chunks) chunkEnds.push((chunkEnds.at(-1) ?? 0) + chunk.size);
    let chunksDone = 0;
    this.emit('running');
    return {
      verified: (storedBytes) => {
        this.parts += 1;
        while (chunksDone < chunkEnds.length && (chunkEnds[chunksDone] ?? Infinity) <= storedBytes) {
          chunksDone += 1;
          this.chunks += 1;
        }
        this.bytes = offset + toStream(storedBytes);
        this.emit('running');
      },
      retried: () => {
        this.retries += 1;
        this.emit('running');
      },
      finished: (failed) => {
        if (!failed) this.bytes = offset + manifest.total_bytes;
        this.emit(failed ? 'failed' : last ? 'completed' : 'running');
      },
    };
  }

  /** The transfer ends as failed if it has not ended: a restore stopped between two backups of its chain. */
  abandon(): void {
    if (!this.ended) this.emit('failed');
  }

  private emit(state: 'running' | 'completed' | 'failed'): void {
    this.ended = state !== 'running';
    this.listener({
      phase: 'download',
      subvolume: this.subvolume,
      label: this.subvolume,
      bytes: this.bytes,
      totalBytes: this.totalBytes,
      chunks: this.chunks,
      parts: this.parts,
      retries: this.retries,
      done: state !== 'running',
      ...(state === 'failed' ? { failed: true } : {}),
    });
  }
}

/** The hooks of one backup's download. */
export interface LinkProgress {
  /** After each part verified and passed on, with the stored bytes passed on so far in this backup. */
  verified(storedBytes: number): void;
  retried(): void;
  /** The backup's last event; the transfer's too when it failed or was the chain's last. */
  finished(failed: boolean): void;
}
