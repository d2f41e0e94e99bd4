import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { FakeS3, upload } from '../__fakes__/upload-harness';
import { RateLimiter } from './rate-limit';

/** A clock the limiter's waits move forward: the test runs in no time, and measures what the limiter allowed. */
function virtualClock() {
  let now = 0;
  return {
    now: () => now,
    wait: async (ms: number) => {
      now += ms;
    },
    elapsed: () => now,
  };
}

describe('RateLimiter', () => {
  it('hands out bytes at the cap over a long span, from several callers at once', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(1_000_000, clock.now, clock.wait);
    const sender = async () => {
      for (let sent = 0; sent < 15_000_000; sent += 65_536) await limiter.take(65_536);
    };

    await Promise.all([sender(), sender(), sender(), sender()]); // 4 parts in flight, ~60 MB

    const bytes = 4 * Math.ceil(15_000_000 / 65_536) * 65_536;
    const rate = bytes / (clock.elapsed() / 1000);
    expect(rate).toBeGreaterThan(0.95 * 1_000_000);
    expect(rate).toBeLessThan(1.05 * 1_000_000);
  });

  it('throttles a part body into slices of its bytes, in order', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(1_000_000, clock.now, clock.wait);
    const part = randomBytes(3_000_000);

    const pieces: Buffer[] = [];
    for await (const piece of limiter.throttle(part)) pieces.push(piece as Buffer);

    expect(Buffer.concat(pieces).equals(part)).toBe(true);
    expect(clock.elapsed()).toBeGreaterThan(2_600); // 3 MB at 1 MB/s, less the quarter second it may burst
  });

  it('stops waiting when the upload is aborted', async () => {
    const limiter = new RateLimiter(1000); // the real clock: the second take would wait a minute
    const controller = new AbortController();
    await limiter.take(65_536);
    const waiting = limiter.take(65_536, controller.signal);
    setImmediate(() => controller.abort(new Error('stopped')));
    await expect(waiting).rejects.toThrow('stopped');
  });
});

describe('uploadChunkedStream with s3.max_upload_rate', () => {
  it('sends every byte, no faster than the cap over all parts in flight', async () => {
    const fake = new FakeS3();
    const data = randomBytes(3 * 1024 * 1024);
    const started = performance.now();

    const result = await upload(fake, Readable.from([data]), {
      chunkSizeBytes: 2 * 1024 * 1024,
      partSizeBytes: 512 * 1024,
      concurrency: 3,
      maxUploadBytesPerSecond: 2 * 1024 * 1024,
    });

    // A lower bound only: a busy machine makes it slower, never faster. 3 MiB at 2 MiB/s,
    // less the quarter second's burst the limiter starts with.
    expect(performance.now() - started).toBeGreaterThan(1000);
    const inOrder = [...fake.receivedParts].sort((a, b) => a.key.localeCompare(b.key) || a.partNumber - b.partNumber);
    expect(Buffer.concat(inOrder.map((part) => part.bytes)).equals(data)).toBe(true);
    expect(result.totalBytes).toBe(data.length);
  });
});
