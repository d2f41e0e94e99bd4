import { type FetchContext, fetchSlice, type PartSlice } from './fetch-slice';
import type { PartRange } from './plan';

/**
 * Bytes fetched and not yet taken are at most two parts' worth (the part being handed
 * over and the next), or `concurrency` slices when parts are small. Two keep every GET
 * busy; more buy nothing while the store, not `btrfs receive`, is the slower side, and
 * every byte held is memory first touched, which costs time as well as peak RSS
 * (docs/performance.md, "Two parts held, not four").
 */
const HELD_PARTS = 2;

/**
 * The ranged GETs of a download, started in stream order: at most `concurrency` in
 * flight, and at most HELD_PARTS parts' worth of bytes (or `concurrency` slices, if
 * more) fetched ahead of the consumer, the part being handed over counted. A GET
 * starts as soon as one ends, not only when the consumer takes a part, so the
 * connections stay busy.
 *
 * Slices of a part fetched in order (rather than one GET per part, every part of the
 * window at once) make the first part whole after one part's worth of transfer
 * instead of a window's worth: `btrfs receive` starts sooner and waits less at the end.
 */
export class SliceWindow {
  /** Started GETs not yet taken, in stream order. */
  private readonly queue: Array<Promise<Buffer[]>> = [];
  private readonly budget: number;
  /** The next slice to start: its part and its offset in that part. */
  private nextPart = 0;
  private nextStart = 0;
  private started = 0;
  private inFlight = 0;
  private held = 0;
  /** No slice past the first failed one starts: its failure ends the stream when reached. */
  private failedAt = Number.POSITIVE_INFINITY;
  private wake: (() => void) | undefined;

  constructor(
    private readonly ctx: FetchContext,
    private readonly plan: readonly PartRange[],
    private readonly concurrency: number,
    private readonly rangeSize: number,
  ) {
    const largestPart = plan.reduce((largest, part) => Math.max(largest, part.size), 0);
    // Never fewer bytes than `concurrency` slices: small parts still keep every connection busy.
    this.budget = Math.max(HELD_PARTS * largestPart, concurrency * Math.min(rangeSize, largestPart));
    // A consumer waiting for a slice not yet started learns of the abort.
    ctx.signal.addEventListener('abort', () => this.fill(), { once: true });
  }

  /** The number of slices (ranged GETs) part `part` is fetched in. */
  slicesIn(part: PartRange): number {
    return Math.ceil(part.size / this.rangeSize);
  }

  /** The next slice's bytes in stream order, once its GET ends. */
  async take(): Promise<Buffer[]> {
    this.fill();
    for (let fetch = this.queue.shift(); ; fetch = this.queue.shift()) {
      if (fetch !== undefined) return fetch;
      this.ctx.signal.throwIfAborted();
      // Started as soon as a GET in flight ends (or the signal aborts).
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Part `part` was handed over: its bytes leave the budget and more GETs may start. */
  release(part: PartRange): void {
    this.held -= part.size;
    this.fill();
  }

  private fill(): void {
    for (let slice = this.peek(); slice !== undefined; slice = this.peek()) {
      const fits = this.held === 0 || this.held + slice.length <= this.budget;
      if (this.ctx.signal.aborted || this.inFlight >= this.concurrency || !fits || this.started > this.failedAt) break;
      const position = this.started;
      this.advance(slice);
      this.inFlight += 1;
      this.held += slice.length;
      const fetch = fetchSlice(this.ctx, slice);
      // Taken in order by the consumer; noted here so that one never taken is not an unhandled rejection.
      fetch
        .catch(() => {
          this.failedAt = Math.min(this.failedAt, position);
        })
        .finally(() => {
          this.inFlight -= 1;
          this.fill();
        });
      this.queue.push(fetch);
    }
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private peek(): PartSlice | undefined {
    // An empty part is fetched in no slice.
    while (this.plan[this.nextPart]?.size === 0) this.nextPart += 1;
    const part = this.plan[this.nextPart];
    if (part === undefined) return undefined;
    return { part, start: this.nextStart, length: Math.min(this.rangeSize, part.size - this.nextStart) };
  }

  private advance(slice: PartSlice): void {
    this.started += 1;
    this.nextStart += slice.length;
    if (this.nextStart < slice.part.size) return;
    this.nextPart += 1;
    this.nextStart = 0;
  }
}
