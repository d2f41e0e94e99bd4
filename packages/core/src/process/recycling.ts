import type { Readable } from 'node:stream';

/**
 * A Readable whose chunks can be handed back once their consumer is done with them, so
 * the producer fills the same memory again instead of allocating a buffer per read and
 * leaving the old one to the garbage collector. `Btrfs.send`'s stream is one: it reads
 * the pipe of `btrfs send` into a few reused buffers (docs/upload.md). A consumer that
 * never recycles still gets correct data; it only costs an allocation per read.
 */
export interface RecyclingReadable extends Readable {
  /**
   * Returns `chunk`, one this stream emitted, to be refilled. The caller must not touch
   * it (or any view of it) afterwards. Anything else, or a chunk already returned, is ignored.
   */
  recycle(chunk: Buffer): void;
}

export function isRecyclingReadable(stream: Readable): stream is RecyclingReadable {
  return typeof Reflect.get(stream, 'recycle') === 'function';
}
