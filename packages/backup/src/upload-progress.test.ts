import type { ProgressEvent } from '@org/btrfs-s3-core';
import { Readable } from 'node:stream';
import { UploadProgressReporter } from './upload-progress';

function reporter(options: { encoded: boolean; estimatedTotalBytes?: number }): {
  progress: UploadProgressReporter;
  events: ProgressEvent[];
} {
  const events: ProgressEvent[] = [];
  const progress = new UploadProgressReporter((event) => events.push(event), {
    subvolume: 'data',
    estimatedTotalBytes: options.estimatedTotalBytes,
    encoded: options.encoded,
  });
  return { progress, events };
}

async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const piece of source) void piece;
}

describe('UploadProgressReporter', () => {
  it('starts at 0 bytes and counts parts, chunks and retries, carrying the estimate on every event', () => {
    const { progress, events } = reporter({ encoded: false, estimatedTotalBytes: 1000 });
    progress.started();
    progress.part({ bytesUploaded: 100, bytesRead: 300 });
    progress.retry();
    progress.part({ bytesUploaded: 200, bytesRead: 300 });
    progress.chunk();

    expect(events.map(({ bytes, chunks, parts, retries }) => ({ bytes, chunks, parts, retries }))).toEqual([
      { bytes: 0, chunks: 0, parts: 0, retries: 0 },
      { bytes: 100, chunks: 0, parts: 1, retries: 0 },
      { bytes: 100, chunks: 0, parts: 1, retries: 1 },
      { bytes: 200, chunks: 0, parts: 2, retries: 1 },
      { bytes: 200, chunks: 1, parts: 2, retries: 1 },
    ]);
    expect(events.every((event) => event.estimatedTotalBytes === 1000 && event.totalBytes === undefined && !event.done)).toBe(true);
  });

  it('leaves the estimate out when there is none (a first backup)', () => {
    const { progress, events } = reporter({ encoded: false });
    progress.started();
    expect(events[0]).not.toHaveProperty('estimatedTotalBytes');
  });

  it("reports an encoded stream's progress in send-stream bytes, at the ratio read so far", async () => {
    const { progress, events } = reporter({ encoded: true, estimatedTotalBytes: 4000 });
    // The encoder took 1000 bytes of the send stream and made 250 stored bytes of them (4:1).
    await drain(progress.countStream(Readable.from([Buffer.alloc(600), Buffer.alloc(400)])));
    progress.part({ bytesUploaded: 100, bytesRead: 250 });

    expect(events.at(-1)?.bytes).toBe(400);
  });

  it('ends with one done event carrying the exact stream size when the upload succeeds', async () => {
    const { progress, events } = reporter({ encoded: true });
    const result = await progress.track(Promise.resolve({ totalBytes: 1234 }));

    expect(result).toEqual({ totalBytes: 1234 });
    expect(events).toEqual([expect.objectContaining({ bytes: 1234, done: true })]);
    expect(events[0]).not.toHaveProperty('failed');
  });

  it('ends with one done event at the bytes acknowledged when the upload fails, and rethrows', async () => {
    const { progress, events } = reporter({ encoded: false });
    progress.part({ bytesUploaded: 64, bytesRead: 128 });

    await expect(progress.track(Promise.reject(new Error('UploadPart failed')))).rejects.toThrow('UploadPart failed');
    expect(events.at(-1)).toEqual(expect.objectContaining({ bytes: 64, parts: 1, done: true, failed: true }));
    expect(events.filter((event) => event.done)).toHaveLength(1);
  });
});
