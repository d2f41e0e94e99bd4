import type { Readable } from 'node:stream';

/** A part's bytes, held until S3 acknowledges them. */
export interface StoredPart {
  readonly size: number;
  /** The bytes for one UploadPart attempt; a retry calls it again. */
  body(): Buffer | Readable;
  /** Frees the part's memory or file once it is acknowledged (or the run failed). Idempotent. */
  release(): Promise<void>;
}

/** Receives one part's bytes as they are read from the source. */
export interface PartWriter {
  write(data: Buffer): Promise<void>;
  finish(): Promise<StoredPart>;
}

/** Where parts wait for upload: memory (default) or the disk spool. */
export interface PartStore {
  /** Room for a part of at most `capacity` bytes; waits while the store's budget is used up. */
  open(capacity: number): Promise<PartWriter>;
  /** After a failure: rejects waiting opens with `reason` and frees every part still held. */
  close(reason: unknown): Promise<void>;
}

/**
 * A byte budget: `acquire` waits until the bytes fit. Waiters are served in order,
 * so a large part is never starved by smaller ones.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiters: Array<{ bytes: number; resolve: () => void; reject: (reason: unknown) => void }> = [];
  private closedWith: { reason: unknown } | undefined;

  constructor(readonly limit: number) {}

  acquire(bytes: number): Promise<void> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith.reason);
    if (this.waiters.length === 0 && this.used + bytes <= this.limit) {
      this.used += bytes;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ bytes, resolve, reject }));
  }

  release(bytes: number): void {
    this.used -= bytes;
    for (let next = this.waiters[0]; next !== undefined && this.used + next.bytes <= this.limit; next = this.waiters[0]) {
      this.waiters.shift();
      this.used += next.bytes;
      next.resolve();
    }
  }

  close(reason: unknown): void {
    this.closedWith = { reason };
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
  }
}

/**
 * Parts in memory, in a pool of at most `count` buffers of `bufferSize` bytes that are
 * reused for the whole run. The pool, not the garbage collector, bounds memory: a
 * freed 128 MiB part is refilled instead of waiting for V8 to collect it.
 * Each part is copied once, from the source's small reads into its pool buffer.
 */
export class MemoryPartStore implements PartStore {
  private readonly free: Buffer[] = [];
  private readonly budget: ByteBudget;

  constructor(
    private readonly bufferSize: number,
    count: number,
  ) {
    this.budget = new ByteBudget(bufferSize * count);
  }

  async open(capacity: number): Promise<PartWriter> {
    if (capacity > this.bufferSize) throw new RangeError(`part of ${capacity} bytes exceeds the ${this.bufferSize}-byte buffers`);
    await this.budget.acquire(this.bufferSize);
    // allocUnsafeSlow: never a slice of Node's shared pool, and pages are only touched when filled.
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferSize);
    let filled = 0;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      this.free.push(buffer);
      this.budget.release(this.bufferSize);
    };
    return {
      write: async (data) => {
        filled += data.copy(buffer, filled);
      },
      finish: async () => {
        const bytes = buffer.subarray(0, filled);
        return { size: filled, body: () => bytes, release };
      },
    };
  }

  async close(reason: unknown): Promise<void> {
    this.budget.close(reason);
    this.free.length = 0;
  }
}
