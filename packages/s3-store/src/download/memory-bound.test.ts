import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { download, FakeObjectS3, settle, storeStream } from '../__fakes__/download-harness';

const PART = 1024;
const CONCURRENCY = 3;

/**
 * A consumer like `btrfs receive` behind a pipe: takes one part at a time and
 * acknowledges it only after the downloader has had many event-loop turns to fetch
 * ahead, so any over-fetching shows up in the counts.
 */
class SlowConsumer extends Writable {
  readonly pieces: Buffer[] = [];
  received = 0;

  constructor(private readonly onWrite: () => void) {
    super({ highWaterMark: 1 });
  }

  override _write(piece: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.pieces.push(piece);
    this.received += piece.length;
    this.onWrite();
    settle(5).then(() => done(), done);
  }
}

describe('downloadVerifiedStream: memory bound and backpressure', () => {
  it('never holds more than `concurrency` slices of fetched but unconsumed bytes while S3 answers at once, when parts are single slices', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 20 * PART, { chunkSize: 4 * PART, partSize: PART });
    let maxHeld = 0;
    let maxAhead = 0;
    const consumer = new SlowConsumer(() => sample());
    const sample = () => {
      maxHeld = Math.max(maxHeld, fake.bytesServed - consumer.received);
      maxAhead = Math.max(maxAhead, fake.of(GetObjectCommand).length - consumer.pieces.length);
    };
    fake.hook = (command) => {
      if (command instanceof GetObjectCommand) sample();
    };

    await pipeline(download(fake, stored, { concurrency: CONCURRENCY }), consumer);

    expect(Buffer.concat(consumer.pieces).equals(stored.data)).toBe(true);
    expect(fake.maxGetsInFlight).toBeLessThanOrEqual(CONCURRENCY);
    // GETs started but not yet taken by the consumer: the fetch window, the part being handed over included.
    expect(maxAhead).toBeLessThanOrEqual(CONCURRENCY);
    expect(maxHeld).toBeLessThanOrEqual(CONCURRENCY * PART);
    // The bound was reached, so the test measured a full window and not a trickle.
    expect(maxAhead).toBe(CONCURRENCY);
    expect(maxHeld).toBeGreaterThanOrEqual((CONCURRENCY - 1) * PART);
  });

  it('sends no further GET while the consumer has stopped reading, and resumes when it reads again', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 20 * PART, { chunkSize: 4 * PART, partSize: PART });
    const stream = download(fake, stored, { concurrency: CONCURRENCY });
    const pieces: Buffer[] = [];
    let received = 0;
    const paused = new Promise<void>((resolve) => {
      // A part arrives as the pieces its GET delivered; stop once two whole parts are in.
      stream.on('data', (piece: Buffer) => {
        pieces.push(piece);
        received += piece.length;
        if (received === 2 * PART) {
          stream.pause();
          resolve();
        }
      });
    });
    await paused;
    await settle();
    // Two parts taken, then a full window: the next part waiting in the stream plus CONCURRENCY - 1 fetched behind it.
    expect(fake.of(GetObjectCommand)).toHaveLength(2 + CONCURRENCY);
    await settle();
    expect(fake.of(GetObjectCommand)).toHaveLength(2 + CONCURRENCY);

    const ended = new Promise<void>((resolve, reject) => {
      stream.once('end', resolve);
      stream.once('error', reject);
    });
    stream.resume();
    await ended;
    expect(Buffer.concat(pieces).equals(stored.data)).toBe(true);
    expect(fake.of(GetObjectCommand)).toHaveLength(20);
  });

  it('fetches slices of a part in stream order, keeping the GETs busy until two parts are held', async () => {
    const fake = new FakeObjectS3();
    const stored = storeStream(fake, 20 * PART, { chunkSize: 4 * PART, partSize: PART });
    const stream = download(fake, stored, { concurrency: CONCURRENCY, rangeSizeBytes: PART / 4 });
    const firstPart = new Promise<Buffer>((resolve) => {
      stream.once('data', (piece: Buffer) => {
        stream.pause();
        resolve(piece);
      });
    });
    const piece = await firstPart;
    await settle();

    // The first GETs are the first part's slices, not one GET per part.
    expect(
      fake
        .of(GetObjectCommand)
        .slice(0, CONCURRENCY)
        .map(({ input }) => input.Range),
    ).toEqual(['bytes=0-255', 'bytes=256-511', 'bytes=512-767']);
    expect(piece.equals(stored.data.subarray(0, piece.length))).toBe(true);
    // GETs went on as others ended, while nothing more was taken, up to the memory bound (two parts) and no further.
    expect(fake.of(GetObjectCommand)).toHaveLength(2 * 4);
    expect(fake.maxGetsInFlight).toBeLessThanOrEqual(CONCURRENCY);
    stream.destroy();
  });
});
