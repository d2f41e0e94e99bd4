import { createHash, type Hash } from 'node:crypto';
import { AgePayloadEncryptor } from './age/payload';
import { startAgeFile } from './age/header';
import { compressFrame } from './zstd';

/** How a chunk's slice of the send stream becomes its object's bytes. */
export interface ChunkEncoding {
  /** zstd level (1-19, or negative for zstd's fast modes); undefined stores the slice uncompressed. */
  readonly compressionLevel?: number;
  /** age recipients (`age1...`); empty or undefined stores the slice unencrypted. */
  readonly recipients?: readonly string[];
}

/** Follows the last encoded byte of a chunk: its slice of the send stream is this long and has this hash. */
export interface EncodedChunkEnd {
  readonly kind: 'chunk-end';
  readonly plainSize: number;
  readonly plainSha256: string;
}

/** Follows the last chunk: the whole send stream. */
export interface EncodedStreamEnd {
  readonly kind: 'stream-end';
  readonly plainSize: number;
  readonly plainSha256: string;
}

export type EncodedItem = Buffer | EncodedChunkEnd | EncodedStreamEnd;

/** Plaintext is compressed in frames of this much: large enough for zstd's window, small enough to hold a few. */
const FRAME_BYTES = 4 * 1024 * 1024;
/** Frames compressing at once (on the thread pool), in stream order. */
const FRAMES_IN_FLIGHT = 4;

interface Encoder {
  write(plain: Buffer): Promise<Buffer[]>;
  end(): Promise<Buffer[]>;
}

/** zstd then age, per chunk; either may be off. */
async function chunkEncoder(encoding: ChunkEncoding): Promise<Encoder> {
  const recipients = encoding.recipients ?? [];
  const age = recipients.length === 0 ? undefined : await startAgeFile(recipients);
  const payload = age === undefined ? undefined : new AgePayloadEncryptor(age.payloadKey);
  const seal = (data: Buffer): Buffer[] => (payload === undefined ? [data] : payload.push(data));
  const sealEnd = (): Buffer[] => (payload === undefined ? [] : payload.finish());
  const prefix = age === undefined ? [] : [age.prefix];
  const level = encoding.compressionLevel;
  if (level === undefined) {
    let first = true;
    const emit = (data: Buffer[]) => {
      const out = first ? [...prefix, ...data] : data;
      first = false;
      return out;
    };
    return {
      write: async (plain) => emit(seal(plain)),
      end: async () => emit(sealEnd()),
    };
  }
  const frames: Promise<Buffer[]>[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let started = false;
  const flushFrame = () => {
    if (pendingBytes === 0) return;
    const frame = compressFrame(pending, pendingBytes, level);
    // Awaited in order by drain(); if the run stops first, a failed frame must not crash the process as an unhandled rejection.
    frame.catch(() => undefined);
    frames.push(frame);
    pending = [];
    pendingBytes = 0;
  };
  const drain = async (keep: number): Promise<Buffer[]> => {
    const out: Buffer[] = started ? [] : [...prefix];
    started = true;
    while (frames.length > keep) for (const piece of await (frames.shift() as Promise<Buffer[]>)) out.push(...seal(piece));
    return out;
  };
  return {
    write: async (plain) => {
      let data = plain;
      while (data.length > 0) {
        const piece = data.subarray(0, FRAME_BYTES - pendingBytes);
        // Held, not copied: each read of the send stream is a buffer of its own.
        pending.push(piece);
        pendingBytes += piece.length;
        data = data.subarray(piece.length);
        if (pendingBytes === FRAME_BYTES) flushFrame();
      }
      return drain(FRAMES_IN_FLIGHT - 1);
    },
    end: async () => {
      flushFrame();
      const out = await drain(0);
      return [...out, ...sealEnd()];
    },
  };
}

/**
 * Cuts the send stream into chunks of `chunkSizeBytes` and encodes each as one
 * object's bytes: a complete zstd frame sequence of the chunk's slice, encrypted as
 * one age file. Yields the encoded bytes, a chunk-end after each chunk (with its
 * slice's size and SHA-256) and a stream-end. An empty stream yields only the
 * stream-end. Pull-based like the uploader's splitter: the source is read only
 * while the consumer asks for more.
 */
export async function* encodeChunks(
  source: AsyncIterable<unknown>,
  chunkSizeBytes: number,
  encoding: ChunkEncoding,
): AsyncGenerator<EncodedItem, void, undefined> {
  // As in the splitter: the first chunk's hash state is also the stream's; the stream continues from a copy.
  let streamHash: Hash | undefined;
  let totalBytes = 0;
  let chunk: { encoder: Encoder; hash: Hash; size: number } | undefined;
  const endChunk = async function* (open: NonNullable<typeof chunk>): AsyncGenerator<EncodedItem> {
    yield* await open.encoder.end();
    streamHash ??= open.hash.copy();
    yield { kind: 'chunk-end', plainSize: open.size, plainSha256: open.hash.digest('hex') };
  };
  for await (const value of source) {
    let data = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
    while (data.length > 0) {
      chunk ??= { encoder: await chunkEncoder(encoding), hash: createHash('sha256'), size: 0 };
      const piece = data.subarray(0, chunkSizeBytes - chunk.size);
      data = data.subarray(piece.length);
      chunk.hash.update(piece);
      streamHash?.update(piece);
      chunk.size += piece.length;
      totalBytes += piece.length;
      yield* await chunk.encoder.write(piece);
      if (chunk.size === chunkSizeBytes) {
        yield* endChunk(chunk);
        chunk = undefined;
      }
    }
  }
  if (chunk !== undefined) yield* endChunk(chunk);
  yield { kind: 'stream-end', plainSize: totalBytes, plainSha256: (streamHash ?? createHash('sha256')).digest('hex') };
}
