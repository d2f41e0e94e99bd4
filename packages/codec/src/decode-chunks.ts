import { createHash, type Hash } from 'node:crypto';
import type { Transform } from 'node:stream';
import { AgeError } from './age/errors';
import { openAgeFile, prefixLength } from './age/header';
import type { Identities } from './age/keys';
import { AgePayloadDecryptor } from './age/payload';
import { Coalescer } from './coalesce';
import { frameSequenceDecompressor } from './zstd';

/** Decrypted bytes travel on in buffers of about this much (see Coalescer). */
const OUTPUT_BYTES = 1024 * 1024;

/** What a decoder needs of each chunk: its stored size, and its slice of the send stream's size and hash. */
export interface EncodedChunk {
  readonly key: string;
  readonly size: number;
  readonly plainSize: number;
  readonly plainSha256: string;
}

export interface ChunkDecoding {
  readonly compressed: boolean;
  /** Present when the chunks are age files. */
  readonly identities?: Identities;
}

/** The decoded stream did not match what the manifest recorded of the send stream. */
export class DecodeMismatchError extends Error {
  override readonly name = 'DecodeMismatchError';
}

type Stage = ((source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer, void, undefined>) | Transform;

/**
 * The stages that turn verified chunk objects (their bytes in order, as the verified
 * download passes them on) back into the send stream, for `stream.pipeline`:
 * each chunk's age file is opened (no chunk byte is passed on before its 64 KiB
 * STREAM block authenticated), the frame sequences decompressed, and the result is
 * checked against every chunk's plaintext size and SHA-256 and the stream's.
 */
export function decodeStages(chunks: readonly EncodedChunk[], streamSha256: string, decoding: ChunkDecoding): Stage[] {
  const stages: Stage[] = [];
  const { identities } = decoding;
  if (identities !== undefined) stages.push((source) => decryptChunks(source, chunks, identities));
  if (decoding.compressed) stages.push(frameSequenceDecompressor());
  stages.push((source) => checkPlaintext(source, chunks, streamSha256));
  return stages;
}

/** Each chunk's bytes, split off the verified stream by the manifest's stored sizes. */
async function* chunkBytes(
  source: AsyncIterable<Buffer>,
  chunks: readonly EncodedChunk[],
): AsyncGenerator<{ index: number; data: Buffer; end: boolean }> {
  let index = 0;
  let left = chunks[0]?.size ?? 0;
  for await (const value of source) {
    let data = value;
    while (data.length > 0) {
      if (index >= chunks.length) throw new DecodeMismatchError("more bytes than the manifest's chunks hold");
      const piece = data.subarray(0, left);
      data = data.subarray(piece.length);
      left -= piece.length;
      yield { index, data: piece, end: left === 0 };
      if (left === 0) {
        index += 1;
        left = chunks[index]?.size ?? 0;
      }
    }
  }
  if (index < chunks.length) throw new DecodeMismatchError(`the stream ended inside chunk ${chunks[index]?.key ?? index}`);
}

async function* decryptChunks(
  source: AsyncIterable<Buffer>,
  chunks: readonly EncodedChunk[],
  identities: Identities,
): AsyncGenerator<Buffer> {
  const joined = new Coalescer(OUTPUT_BYTES);
  let head: Buffer[] = [];
  let decryptor: AgePayloadDecryptor | undefined;
  for await (const { index, data, end } of chunkBytes(source, chunks)) {
    const key = chunks[index]?.key ?? String(index);
    let payload = data;
    if (decryptor === undefined) {
      head.push(data);
      const joined = Buffer.concat(head);
      const length = prefixLength(joined);
      if (length === undefined) {
        if (end) throw new AgeError(`${key}: the object ends inside its age header`);
        continue;
      }
      try {
        decryptor = new AgePayloadDecryptor(await openAgeFile(joined.subarray(0, length), identities.decrypter));
      } catch (error) {
        throw new AgeError(`${key}: ${error instanceof Error ? error.message : String(error)}`);
      }
      head = [];
      payload = joined.subarray(length);
    }
    try {
      yield* joined.push(decryptor.push(payload));
      if (end) {
        yield* joined.push(decryptor.finish());
        yield* joined.flush();
        decryptor = undefined;
      }
    } catch (error) {
      throw new AgeError(`${key}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

async function* checkPlaintext(
  source: AsyncIterable<Buffer>,
  chunks: readonly EncodedChunk[],
  streamSha256: string,
): AsyncGenerator<Buffer> {
  let streamHash: Hash | undefined;
  let index = 0;
  let chunkHash = createHash('sha256');
  let left = chunks[0]?.plainSize ?? 0;
  const endChunk = () => {
    const chunk = chunks[index];
    streamHash ??= chunkHash.copy();
    const actual = chunkHash.digest('hex');
    if (chunk === undefined || actual !== chunk.plainSha256)
      throw new DecodeMismatchError(
        `${chunk?.key ?? index}: decoded bytes have SHA-256 ${actual}, the manifest recorded ${chunk?.plainSha256 ?? '-'}`,
      );
    index += 1;
    chunkHash = createHash('sha256');
    left = chunks[index]?.plainSize ?? 0;
  };
  // A chunk whose slice is empty cannot exist (chunks start with a byte), so a zero here means the end.
  for await (const value of source) {
    let data = value;
    while (data.length > 0) {
      if (index >= chunks.length) throw new DecodeMismatchError('decoding gave more bytes than the manifest records');
      const piece = data.subarray(0, left);
      data = data.subarray(piece.length);
      left -= piece.length;
      chunkHash.update(piece);
      streamHash?.update(piece);
      if (left === 0) endChunk();
      yield piece;
    }
  }
  if (index < chunks.length) throw new DecodeMismatchError(`decoding ended inside chunk ${chunks[index]?.key ?? index}`);
  const actual = (streamHash ?? createHash('sha256')).digest('hex');
  if (actual !== streamSha256) throw new DecodeMismatchError(`decoded stream has SHA-256 ${actual}, the manifest recorded ${streamSha256}`);
}
