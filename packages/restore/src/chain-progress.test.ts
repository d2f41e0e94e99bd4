import type { ProgressEvent } from '@org/btrfs-s3-core';
import { ChainProgress, type LinkSizes } from './chain-progress';

/** A backup whose chunks hold these stored sizes, and whose send stream is `streamBytes` (their sum unless compressed). */
const backup = (chunkSizes: readonly number[], streamBytes?: number): LinkSizes => {
  const stored = chunkSizes.reduce((sum, size) => sum + size, 0);
  return { total_bytes: streamBytes ?? stored, stored_bytes: stored, chunks: chunkSizes.map((size) => ({ size })) };
};

function watch(chain: readonly LinkSizes[]): { progress: ChainProgress; events: ProgressEvent[] } {
  const events: ProgressEvent[] = [];
  return { progress: new ChainProgress((event) => events.push(event), 'data', chain), events };
}

const counts = ({ bytes, chunks, parts, retries, done }: ProgressEvent) => ({ bytes, chunks, parts, retries, done });

describe('ChainProgress', () => {
  it("reports the whole chain as one transfer: the chain's exact total, bytes and counts running on across its backups", () => {
    const full = backup([100, 50]);
    const inc = backup([30]);
    const { progress, events } = watch([full, inc]);

    const first = progress.link(full, false);
    first.verified(60);
    first.verified(100); // the end of the first chunk
    first.retried();
    first.verified(150);
    first.finished(false);
    const second = progress.link(inc, true);
    second.verified(30);
    second.finished(false);

    expect(new Set(events.map((event) => event.totalBytes))).toEqual(new Set([180]));
    expect(events.map(counts)).toEqual([
      { bytes: 0, chunks: 0, parts: 0, retries: 0, done: false },
      { bytes: 60, chunks: 0, parts: 1, retries: 0, done: false },
      { bytes: 100, chunks: 1, parts: 2, retries: 0, done: false },
      { bytes: 100, chunks: 1, parts: 2, retries: 1, done: false },
      { bytes: 150, chunks: 2, parts: 3, retries: 1, done: false },
      { bytes: 150, chunks: 2, parts: 3, retries: 1, done: false }, // the full's end is not the transfer's
      { bytes: 150, chunks: 2, parts: 3, retries: 1, done: false }, // the incremental starts
      { bytes: 180, chunks: 3, parts: 4, retries: 1, done: false },
      { bytes: 180, chunks: 3, parts: 4, retries: 1, done: true },
    ]);
  });

  it("converts a compressed backup's stored bytes to stream bytes at that backup's own ratio", () => {
    const compressed = backup([25, 25], 200); // 4:1
    const { progress, events } = watch([compressed]);

    const link = progress.link(compressed, true);
    link.verified(25);
    expect(events.at(-1)).toEqual(expect.objectContaining({ bytes: 100, totalBytes: 200, chunks: 1 }));
    link.verified(50);
    link.finished(false);
    expect(events.at(-1)).toEqual(expect.objectContaining({ bytes: 200, done: true }));
  });

  it('ends the transfer at the first backup that fails, at the bytes verified', () => {
    const full = backup([100]);
    const { progress, events } = watch([full, backup([30])]);

    const link = progress.link(full, false);
    link.verified(40);
    link.finished(true);

    expect(events.at(-1)).toEqual(expect.objectContaining({ bytes: 40, totalBytes: 130, done: true, failed: true }));
    expect(events.filter((event) => event.done)).toHaveLength(1);
  });

  it('ends the transfer as failed when the restore stops between two backups, and only once', () => {
    const full = backup([100]);
    const { progress, events } = watch([full, backup([30])]);

    const link = progress.link(full, false);
    link.verified(100);
    link.finished(false);
    progress.abandon();
    progress.abandon();

    expect(events.filter((event) => event.done)).toEqual([expect.objectContaining({ bytes: 100, totalBytes: 130, failed: true })]);
  });

  it('adds no event when the transfer already ended', () => {
    const only = backup([10]);
    const { progress, events } = watch([only]);
    const link = progress.link(only, true);
    link.finished(false);
    const seen = events.length;

    progress.abandon();

    expect(events).toHaveLength(seen);
  });
});
