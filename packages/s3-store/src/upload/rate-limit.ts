import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Bytes a part body is handed to the socket in: small enough that the cap holds over seconds, not just over parts. */
const SLICE_BYTES = 64 * 1024;

/**
 * One upload rate cap for every part in flight (`s3.max_upload_rate`): a token bucket
 * that fills at `bytesPerSecond` and holds at most a quarter second of it, so parts on
 * several connections share the rate and an idle moment buys no long burst after it.
 * Bytes are counted as handed to the socket; the kernel's send buffer smooths them onto
 * the wire, so the cap holds over any span of seconds (as restic's and rclone's do).
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly burst: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<unknown> = (ms, signal) =>
      sleep(ms, undefined, signal === undefined ? {} : { signal }),
  ) {
    this.burst = Math.max(SLICE_BYTES, bytesPerSecond / 4);
    this.tokens = this.burst;
    this.last = now();
  }

  /** Resolves once `bytes` may be sent; callers are served in the order they asked. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.takeNow(bytes, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async takeNow(bytes: number, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
    // Spend first, then wait out the debt: exact whatever the clock's rounding, and the
    // next caller's refill counts the time this one waited.
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    try {
      await this.wait((-this.tokens / this.bytesPerSecond) * 1000, signal);
    } catch (error) {
      signal?.throwIfAborted(); // the upload's own reason, not the timer's AbortError
      throw error;
    }
  }

  /** `body` (a part in memory or a spooled part's stream) handed out no faster than the cap allows. */
  throttle(body: Buffer | Readable, signal?: AbortSignal): Readable {
    return Readable.from(this.slices(body, signal), { objectMode: false });
  }

  private async *slices(body: Buffer | Readable, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
    const pieces: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(body) ? [body] : body;
    for await (const piece of pieces) {
      for (let offset = 0; offset < piece.length; offset += SLICE_BYTES) {
        const slice = piece.subarray(offset, offset + SLICE_BYTES);
        await this.take(slice.length, signal);
        yield slice;
      }
    }
  }
}
