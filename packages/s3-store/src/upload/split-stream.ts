import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { StepError } from './step-error';
import type { PartStore, PartWriter, StoredPart } from './part-store';

export interface PartItem {
  readonly kind: 'part';
  readonly chunkIndex: number;
  readonly key: string;
  readonly partNumber: number;
  readonly size: number;
  readonly sha256: string;
  readonly stored: StoredPart;
}

/** Follows the last part of a chunk: the chunk's size and hash are now final. */
export interface ChunkEndItem {
  readonly kind: 'chunk-end';
  readonly chunkIndex: number;
  readonly size: number;
  readonly sha256: string;
  readonly partCount: number;
}

export interface StreamEndItem {
  readonly kind: 'stream-end';
  readonly totalBytes: number;
  readonly sha256: string;
}

export type SplitItem = PartItem | ChunkEndItem | StreamEndItem;

export interface SplitLayout {
  readonly chunkSizeBytes: number;
  readonly partSizeBytes: number;
  readonly keyForChunk: (index: number) => string;
}

interface OpenChunk {
  readonly index: number;
  readonly key: string;
  /** Undefined while the chunk's first part is open: until then the part's hash is the chunk's. */
  hash: Hash | undefined;
  size: number;
  parts: number;
}

interface OpenPart {
  readonly number: number;
  readonly capacity: number;
  readonly hash: Hash;
  readonly writer: PartWriter;
  size: number;
}

/**
 * Cuts the source into numbered parts of consecutive chunk objects, hashing each
 * part, each chunk and the whole stream in the same pass.
 *
 * Hashing is most of this loop's CPU, so no byte is hashed twice for the same
 * prefix: while a chunk's first part is open, the part's hash state is also the
 * chunk's, and while the first chunk is open, the chunk's is also the stream's.
 * When the shorter one ends, the longer one continues from a copy of its state
 * (Hash.copy). A stream within one chunk (the default 200 GiB) costs about two
 * passes instead of three. A pull-based generator,
 * like lib-storage's getChunkStream: the source is read only while a consumer waits
 * for the next item, so an idle uploader leaves `btrfs send` blocked on its pipe.
 * Parts and chunks start only when a byte arrives for them, so an empty stream
 * yields no part and a stream ending on a chunk boundary no empty chunk.
 */
export async function* splitStream(
  source: Readable,
  layout: SplitLayout,
  store: PartStore,
  onRead: (totalBytes: number) => void = () => undefined,
): AsyncGenerator<SplitItem, void, undefined> {
  let streamHash: Hash | undefined; // undefined while the first chunk is open: its hash is the stream's
  let totalBytes = 0;
  let chunkIndex = 0;
  let chunk: OpenChunk | undefined;
  let part: OpenPart | undefined;
  const failure = (operation: string, error: unknown) =>
    new StepError(
      { operation, key: chunk?.key ?? layout.keyForChunk(chunkIndex), partNumber: part?.number ?? (chunk?.parts ?? 0) + 1 },
      error,
    );

  async function finishPart(open: OpenPart, into: OpenChunk): Promise<PartItem> {
    let stored: StoredPart;
    try {
      stored = await open.writer.finish();
    } catch (error) {
      throw failure('spool', error);
    }
    into.parts = open.number;
    into.hash ??= open.hash.copy(); // the first part: the chunk so far is exactly this part
    return {
      kind: 'part',
      chunkIndex: into.index,
      key: into.key,
      partNumber: open.number,
      size: open.size,
      sha256: open.hash.digest('hex'),
      stored,
    };
  }
  function finishChunk(into: OpenChunk, hash: Hash): ChunkEndItem {
    chunkIndex += 1;
    streamHash ??= hash.copy(); // the first chunk: the stream so far is exactly this chunk
    return { kind: 'chunk-end', chunkIndex: into.index, size: into.size, sha256: hash.digest('hex'), partCount: into.parts };
  }
  /** A chunk ends after its last part, so its hash exists by then. */
  const chunkHash = (into: OpenChunk): Hash => {
    if (into.hash === undefined) throw new Error(`chunk ${into.index} ended before its first part`);
    return into.hash;
  };

  const reads = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await reads.next();
      } catch (error) {
        throw failure('read', error);
      }
      if (next.done === true) break;
      let data = Buffer.isBuffer(next.value) ? next.value : Buffer.from(String(next.value));
      while (data.length > 0) {
        chunk ??= { index: chunkIndex, key: layout.keyForChunk(chunkIndex), hash: undefined, size: 0, parts: 0 };
        if (part === undefined) {
          const capacity = Math.min(layout.partSizeBytes, layout.chunkSizeBytes - chunk.size);
          try {
            part = { number: chunk.parts + 1, capacity, hash: createHash('sha256'), writer: await store.open(capacity), size: 0 };
          } catch (error) {
            throw failure('spool', error);
          }
        }
        // subarray, not a copy: the store's write is the one copy of these bytes.
        const piece = data.subarray(0, part.capacity - part.size);
        data = data.subarray(piece.length);
        part.hash.update(piece);
        chunk.hash?.update(piece);
        streamHash?.update(piece);
        try {
          await part.writer.write(piece);
        } catch (error) {
          throw failure('spool', error);
        }
        part.size += piece.length;
        chunk.size += piece.length;
        totalBytes += piece.length;
        onRead(totalBytes);
        if (part.size === part.capacity) {
          const done = part;
          part = undefined;
          yield await finishPart(done, chunk);
          if (chunk.size === layout.chunkSizeBytes) {
            yield finishChunk(chunk, chunkHash(chunk));
            chunk = undefined;
          }
        }
      }
    }
    if (chunk !== undefined) {
      if (part !== undefined) {
        const done = part;
        part = undefined;
        yield await finishPart(done, chunk);
      }
      yield finishChunk(chunk, chunkHash(chunk));
      chunk = undefined;
    }
    yield { kind: 'stream-end', totalBytes, sha256: (streamHash ?? createHash('sha256')).digest('hex') };
  } finally {
    // Stopped early (the run failed): destroying the source makes `btrfs send` exit.
    await reads.return?.();
  }
}
