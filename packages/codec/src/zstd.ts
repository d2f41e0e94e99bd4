import { promisify } from 'node:util';
import { constants, createZstdDecompress, zstdCompress, zstdCompressSync, type ZstdDecompress } from 'node:zlib';

const compress = promisify(zstdCompress);

/** Bytes sampled (three slices: start, middle, end) to judge whether a frame is worth compressing. */
const PROBE_SLICE = 32 * 1024;
/** A frame whose sample shrinks by less than this is stored raw: compressing media costs CPU and saves nothing. */
const WORTHWHILE = 0.97;
/** zstd's largest block (RFC 8878, Block_Maximum_Size). */
const MAX_BLOCK = 128 * 1024;

/**
 * One zstd frame of `pieces` (consecutive bytes, `bytes` in all), as buffers to write in
 * order. Compressible data is compressed on libuv's thread pool (several frames at once
 * while the event loop keeps the uploads moving). Data whose sample does not shrink
 * (media, archives, encrypted files: most of a typical send stream by bytes) is framed
 * as zstd raw blocks instead, around the pieces as they are: compressing it would cost
 * more CPU than the rest of the pipeline and save nothing, joining the pieces would cost
 * a copy, and Node's zstd binding offers no "store" level. Either way the output is a
 * standard frame that `zstd -d` reads.
 */
export async function compressFrame(pieces: readonly Buffer[], bytes: number, level: number): Promise<Buffer[]> {
  if (!worthCompressing(pieces, bytes)) return rawFrame(pieces, bytes);
  const data = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, bytes);
  // One output buffer for the whole frame: the default 16 KiB makes a callback per 16 KiB.
  return [await compress(data, { chunkSize: bytes + 64 * 1024, params: { [constants.ZSTD_c_compressionLevel]: level } })];
}

/** `length` bytes from `offset` of consecutive `pieces`, joined. */
function sliceOf(pieces: readonly Buffer[], offset: number, length: number): Buffer {
  const out: Buffer[] = [];
  let skip = offset;
  let left = length;
  for (const piece of pieces) {
    if (left === 0) break;
    if (skip >= piece.length) {
      skip -= piece.length;
      continue;
    }
    const part = piece.subarray(skip, skip + left);
    out.push(part);
    left -= part.length;
    skip = 0;
  }
  return Buffer.concat(out);
}

/** Whether a sample of the frame (its start, middle and end) compresses at zstd's fastest regular level. */
function worthCompressing(pieces: readonly Buffer[], bytes: number): boolean {
  const middle = Math.floor(bytes / 2);
  const sample =
    bytes <= 3 * PROBE_SLICE
      ? sliceOf(pieces, 0, bytes)
      : Buffer.concat([
          sliceOf(pieces, 0, PROBE_SLICE),
          sliceOf(pieces, middle, PROBE_SLICE),
          sliceOf(pieces, bytes - PROBE_SLICE, PROBE_SLICE),
        ]);
  return zstdCompressSync(sample, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }).length < sample.length * WORTHWHILE;
}

/**
 * A zstd frame of raw blocks (RFC 8878, section 3.1.1) around `pieces` (`bytes` in all):
 * the magic number, a header declaring a single segment of `bytes`, then blocks of at most
 * 128 KiB, each a 3-byte header (last-block flag, type 0 = raw, size) and the bytes as they are.
 */
export function rawFrame(pieces: readonly Buffer[], bytes: number): Buffer[] {
  const header = Buffer.alloc(9);
  header.writeUInt32LE(0xfd2fb528, 0); // magic number
  header[4] = 0b1010_0000; // Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag, no checksum, no dictionary
  header.writeUInt32LE(bytes, 5); // Frame_Content_Size
  const out: Buffer[] = [header];
  let offset = 0;
  let blockLeft = 0;
  for (const piece of pieces) {
    let rest = piece;
    while (rest.length > 0) {
      if (blockLeft === 0) {
        const size = Math.min(MAX_BLOCK, bytes - offset);
        const blockHeader = Buffer.alloc(3);
        blockHeader.writeUIntLE((size << 3) | (offset + size >= bytes ? 1 : 0), 0, 3); // Block_Size, Block_Type 0 (raw), Last_Block
        out.push(blockHeader);
        blockLeft = size;
      }
      const take = rest.subarray(0, blockLeft);
      out.push(take);
      rest = rest.subarray(take.length);
      blockLeft -= take.length;
      offset += take.length;
    }
  }
  return out;
}

/** A streaming decompressor of a zstd frame sequence (one frame after another, as `zstd -d` reads it). */
export function frameSequenceDecompressor(): ZstdDecompress {
  return createZstdDecompress({ chunkSize: 1024 * 1024 });
}
