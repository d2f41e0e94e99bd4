import { isRecyclingReadable } from '@org/btrfs-s3-core';
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ResumeMismatchError } from './errors';
import { StepError } from './step-error';
import type { PartStore, PartWriter, StoredPart } from './part-store';
import type { ChunkEncoder, EncodedBoundary, UploadedPart } from './types';

export interface PartItem {
  readonly kind: 'part';
  readonly chunkIndex: number;
  readonly key: string;
  readonly partNumber: number;
  readonly size: number;
  readonly sha256: string;
  readonly stored: StoredPart;
  /** Already in the chunk's open upload (a resumed run): proven by its hash, not sent again. */
  readonly resumed?: true;
  /** The chunk's only part: the source or the encoder ended the chunk inside it, so the chunk can be one PutObject. */
  readonly wholeChunk?: true;
}

/** Follows the last part of a chunk: the chunk's size and hash are now final. */
export interface ChunkEndItem {
  readonly kind: 'chunk-end';
  readonly chunkIndex: number;
  readonly size: number;
  readonly sha256: string;
  readonly partCount: number;
  /** What the chunk holds of the source: its size and sha256 unless encoded. */
  readonly plainSize: number;
  readonly plainSha256: string;
}

export interface StreamEndItem {
  readonly kind: 'stream-end';
  /** Bytes of the source, and their SHA-256. */
  readonly totalBytes: number;
  readonly sha256: string;
  readonly storedBytes: number;
}

export type SplitItem = PartItem | ChunkEndItem | StreamEndItem;

export interface SplitLayout {
  readonly chunkSizeBytes: number;
  readonly partSizeBytes: number;
  readonly keyForChunk: (index: number) => string;
  /** Chunks end where the encoder says, not every chunkSizeBytes. */
  readonly encode?: ChunkEncoder | undefined;
  /** A resumed upload: the index of the first chunk read (those before it are in the bucket). Default 0. */
  readonly firstChunkIndex?: number | undefined;
  /** Parts of that first chunk already in its open upload (unencoded only): re-read and compared, not stored again. */
  readonly resumedParts?: ReadonlyMap<number, UploadedPart> | undefined;
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
  /** Undefined for a resumed part: its bytes are only hashed. */
  readonly writer: PartWriter | undefined;
  size: number;
}

/** A resumed part holds no bytes: it is never sent. */
const NOTHING_STORED: StoredPart = { size: 0, body: () => Buffer.alloc(0), release: async () => undefined };

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
 *
 * With `layout.encode`, the bytes cut are the encoder's (compressed, encrypted),
 * chunks end at its boundaries, and the source's sizes and hashes come from them.
 */
export async function* splitStream(
  source: Readable,
  layout: SplitLayout,
  store: PartStore,
  onRead: (totalBytes: number) => void = () => undefined,
): AsyncGenerator<SplitItem, void, undefined> {
  let streamHash: Hash | undefined; // undefined while the first chunk is open: its hash is the stream's
  let totalBytes = 0;
  let chunkIndex = layout.firstChunkIndex ?? 0;
  const resumedChunk = chunkIndex;
  const resumed = (index: number, number: number) => (index === resumedChunk ? layout.resumedParts?.get(number) : undefined);
  let chunk: OpenChunk | undefined;
  let part: OpenPart | undefined;
  const failure = (operation: string, error: unknown) =>
    new StepError(
      { operation, key: chunk?.key ?? layout.keyForChunk(chunkIndex), partNumber: part?.number ?? (chunk?.parts ?? 0) + 1 },
      error,
    );

  /** `endsChunk`: the source or the encoder ended the chunk inside this part. */
  async function finishPart(open: OpenPart, into: OpenChunk, endsChunk: boolean): Promise<PartItem> {
    let stored: StoredPart;
    try {
      stored = open.writer === undefined ? NOTHING_STORED : await open.writer.finish();
    } catch (error) {
      throw failure('spool', error);
    }
    into.parts = open.number;
    into.hash ??= open.hash.copy(); // the first part: the chunk so far is exactly this part
    const sha256 = open.hash.digest('hex');
    const recorded = resumed(into.index, open.number);
    if (recorded !== undefined && (recorded.size !== open.size || recorded.sha256 !== sha256))
      throw failure(
        'verify resume',
        new ResumeMismatchError(`part ${open.number} of ${into.key} differs from the one the interrupted run uploaded`),
      );
    return {
      kind: 'part',
      chunkIndex: into.index,
      key: into.key,
      partNumber: open.number,
      size: open.size,
      sha256,
      stored,
      ...(recorded === undefined ? {} : { resumed: true as const }),
      ...(endsChunk && open.number === 1 && recorded === undefined ? { wholeChunk: true as const } : {}),
    };
  }
  function finishChunk(into: OpenChunk, hash: Hash, plain?: EncodedBoundary): ChunkEndItem {
    const beyond = into.index === resumedChunk ? [...(layout.resumedParts?.keys() ?? [])].find((number) => number > into.parts) : undefined;
    if (beyond !== undefined)
      throw failure('verify resume', new ResumeMismatchError(`${into.key} ends before part ${beyond}, which the interrupted run uploaded`));
    chunkIndex += 1;
    if (plain === undefined) streamHash ??= hash.copy(); // the first chunk: the stream so far is exactly this chunk
    const sha256 = hash.digest('hex');
    return {
      kind: 'chunk-end',
      chunkIndex: into.index,
      size: into.size,
      sha256,
      partCount: into.parts,
      plainSize: plain?.plainSize ?? into.size,
      plainSha256: plain?.plainSha256 ?? sha256,
    };
  }
  /** A chunk ends after its last part, so its hash exists by then. */
  const chunkHash = (into: OpenChunk): Hash => {
    if (into.hash === undefined) throw new Error(`chunk ${into.index} ended before its first part`);
    return into.hash;
  };

  const encoded = layout.encode;
  let encodedEnd: EncodedBoundary | undefined;
  const reads = (encoded === undefined ? source : encoded(source))[Symbol.asyncIterator]();
  // Each read is handed back once its bytes are hashed and copied into their part (an
  // encoder may keep them, so not then): `btrfs send`'s pipe then reads into the same
  // few buffers all run long, instead of allocating one per read.
  const recycling = encoded === undefined && isRecyclingReadable(source) ? source : undefined;
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await reads.next();
      } catch (error) {
        throw failure('read', error);
      }
      if (next.done === true) break;
      const value: unknown = next.value;
      if (isBoundary(value)) {
        if (value.kind === 'stream-end') {
          encodedEnd = value;
          continue;
        }
        if (chunk === undefined) throw failure('encode', new Error('the encoder ended a chunk that held no byte'));
        if (part !== undefined) {
          const done = part;
          part = undefined;
          yield await finishPart(done, chunk, true);
        }
        yield finishChunk(chunk, chunkHash(chunk), value);
        chunk = undefined;
        continue;
      }
      const received = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
      let data = received;
      while (data.length > 0) {
        chunk ??= { index: chunkIndex, key: layout.keyForChunk(chunkIndex), hash: undefined, size: 0, parts: 0 };
        if (part === undefined) {
          // An encoded chunk ends at its boundary; a plain one after chunkSizeBytes.
          const capacity =
            encoded === undefined ? Math.min(layout.partSizeBytes, layout.chunkSizeBytes - chunk.size) : layout.partSizeBytes;
          const number = chunk.parts + 1;
          try {
            const writer = resumed(chunk.index, number) === undefined ? await store.open(capacity) : undefined;
            part = { number, capacity, hash: createHash('sha256'), writer, size: 0 };
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
          await part.writer?.write(piece);
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
          // Cut when full, before the end of the chunk is known: a chunk of one full part stays a
          // multipart upload (only with chunk_size_bytes at most part_size_bytes).
          yield await finishPart(done, chunk, false);
          if (encoded === undefined && chunk.size === layout.chunkSizeBytes) {
            yield finishChunk(chunk, chunkHash(chunk));
            chunk = undefined;
          }
        }
      }
      recycling?.recycle(received);
    }
    if (encoded !== undefined) {
      if (chunk !== undefined || encodedEnd === undefined)
        throw failure('encode', new Error('the encoder ended without closing its chunks'));
      yield { kind: 'stream-end', totalBytes: encodedEnd.plainSize, sha256: encodedEnd.plainSha256, storedBytes: totalBytes };
      return;
    }
    if (chunk !== undefined) {
      if (part !== undefined) {
        const done = part;
        part = undefined;
        yield await finishPart(done, chunk, true);
      }
      yield finishChunk(chunk, chunkHash(chunk));
      chunk = undefined;
    }
    yield { kind: 'stream-end', totalBytes, sha256: (streamHash ?? createHash('sha256')).digest('hex'), storedBytes: totalBytes };
  } finally {
    // Stopped early (the run failed): destroying the source makes `btrfs send` exit.
    await reads.return?.();
  }
}

function isBoundary(value: unknown): value is EncodedBoundary {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && 'kind' in value;
}
