import { UploadPartCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FakeS3, sha256, upload } from '../__fakes__/upload-harness';

/**
 * A producer like `btrfs send`: makes bytes only when the consumer reads (`_read`),
 * and counts them, so the bytes read but not yet acknowledged by S3 are known.
 */
class CountingSource extends Readable {
  produced = 0;
  /** Called after each read, to sample how much the consumer holds. */
  onProduce: () => void = () => undefined;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly total: number,
    private readonly readSize: number,
  ) {
    super({ highWaterMark: readSize });
  }

  override _read(): void {
    if (this.produced >= this.total) {
      this.push(null);
      return;
    }
    const size = Math.min(this.readSize, this.total - this.produced);
    const bytes = Buffer.alloc(size, this.produced % 251);
    this.hash.update(bytes);
    this.produced += size;
    this.onProduce();
    this.push(bytes);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

const PART = 1024;
const READ = 100;
const CONCURRENCY = 4;

describe('uploadChunkedStream: memory bound', () => {
  it('never holds more than `concurrency` parts of unacknowledged bytes, however slow S3 is', async () => {
    const fake = new FakeS3();
    const source = new CountingSource(40 * PART + 17, READ);
    let acknowledged = 0;
    let maxHeld = 0;
    const sample = () => {
      maxHeld = Math.max(maxHeld, source.produced - acknowledged);
    };
    source.onProduce = sample;

    // S3 answers a part only once every worker is busy (or the stream is over): the
    // uploader has had every chance to read ahead, and must not have.
    const waiting: Array<() => void> = [];
    const releaseOne = () => {
      if (fake.inFlight < CONCURRENCY && !source.readableEnded) return;
      // setImmediate lets any pending read run first, so over-reading would show up.
      setImmediate(() => waiting.shift()?.());
    };
    source.on('end', () => waiting.splice(0).forEach((resume) => setImmediate(resume)));
    fake.hook = (command) => {
      if (!(command instanceof UploadPartCommand)) return undefined;
      sample();
      return new Promise<void>((resume) => {
        waiting.push(() => {
          sample();
          acknowledged += command.input.ContentLength ?? 0;
          resume();
          releaseOne();
        });
        releaseOne();
      });
    };

    const result = await upload(fake, source, {
      chunkSizeBytes: 5 * PART,
      partSizeBytes: PART,
      concurrency: CONCURRENCY,
      limits: { minPartSizeBytes: 1 },
    });

    expect(fake.maxInFlight).toBe(CONCURRENCY);
    // Parts being sent or filled, plus what the source's own buffer may hold.
    expect(maxHeld).toBeLessThanOrEqual(CONCURRENCY * PART + 2 * READ);
    // The bound was reached, so the test measured parallel parts and not a trickle.
    expect(maxHeld).toBeGreaterThanOrEqual((CONCURRENCY - 1) * PART);
    expect(result.totalBytes).toBe(40 * PART + 17);
    expect(result.streamSha256).toBe(source.digest());
    // Pool buffers are reused: had one been refilled before S3 finished with it, these would differ.
    for (const chunk of result.chunks) expect(sha256(fake.objects.get(chunk.key) ?? Buffer.alloc(0))).toBe(chunk.sha256);
  });

  it('stops reading the source while every worker waits on S3 (backpressure reaches the producer)', async () => {
    const fake = new FakeS3();
    const source = new CountingSource(100 * PART, READ);
    const allBusy = new Promise<void>((resolve) => {
      fake.hook = (command) => {
        if (!(command instanceof UploadPartCommand)) return undefined;
        if (fake.inFlight === CONCURRENCY) resolve();
        // Never answered: the uploader can only wait (or wrongly keep reading).
        return new Promise<void>(() => undefined);
      };
    });
    const controller = new AbortController();
    const running = upload(fake, source, {
      chunkSizeBytes: 50 * PART,
      partSizeBytes: PART,
      concurrency: CONCURRENCY,
      signal: controller.signal,
      limits: { minPartSizeBytes: 1 },
    });
    await allBusy;
    // Give a wrongly eager reader many turns of the event loop to read ahead.
    for (let turn = 0; turn < 50; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(source.produced).toBeLessThanOrEqual(CONCURRENCY * PART + 2 * READ);
    controller.abort(new Error('test over'));
    await expect(running).rejects.toThrow('test over');
  });
});
