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
 * One zstd frame of `data`, as buffers to write in order. Compressible data is
 * compressed on libuv's thread pool (several frames at once while the event loop
 * keeps the uploads moving). Data whose sample does not shrink (media, archives,
 * encrypted files: most of a typical send stream by bytes) is framed as zstd raw
 * blocks instead, at the cost of a few header bytes and no copy: compressing it would
 * cost more CPU than the rest of the pipeline and save nothing, and Node's zstd
 * binding offers no "store" level. Either way the output is a standard frame that
 * `zstd -d` reads.
 */
export async function compressFrame(data: Buffer, level: number): Promise<Buffer[]> {
  if (!worthCompressing(data)) return rawFrame(data);
  // One output buffer for the whole frame: the default 16 KiB makes a callback per 16 KiB.
  return [await compress(data, { chunkSize: data.length + 64 * 1024, params: { [constants.ZSTD_c_compressionLevel]: level } })];
}

/** Whether a sample of `data` compresses at zstd's fastest regular level. */
function worthCompressing(data: Buffer): boolean {
  if (data.length <= 3 * PROBE_SLICE)
    return zstdCompressSync(data, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }).length < data.length * WORTHWHILE;
  const middle = Math.floor(data.length / 2);
  const sample = Buffer.concat([
    data.subarray(0, PROBE_SLICE),
    data.subarray(middle, middle + PROBE_SLICE),
    data.subarray(data.length - PROBE_SLICE),
  ]);
  return zstdCompressSync(sample, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }).length < sample.length * WORTHWHILE;
}

/**
 * A zstd frame of raw blocks (RFC 8878, section 3.1.1): the magic number, a header
 * declaring a single segment of `data.length` bytes, then blocks of at most 128 KiB,
 * each a 3-byte header (last-block flag, type 0 = raw, size) and the bytes as they are.
 */
export function rawFrame(data: Buffer): Buffer[] {
  const header = Buffer.alloc(9);
  header.writeUInt32LE(0xfd2fb528, 0); // magic number
  header[4] = 0b1010_0000; // Frame_Content_Size_flag 2 (4 bytes), Single_Segment_flag, no checksum, no dictionary
  header.writeUInt32LE(data.length, 5); // Frame_Content_Size
  const out: Buffer[] = [header];
  for (let offset = 0; offset < data.length; offset += MAX_BLOCK) {
    const block = data.subarray(offset, offset + MAX_BLOCK);
    const last = offset + block.length >= data.length ? 1 : 0;
    const blockHeader = Buffer.alloc(3);
    blockHeader.writeUIntLE((block.length << 3) | last, 0, 3); // Block_Size, Block_Type 0 (raw), Last_Block
    out.push(blockHeader, block);
  }
  return out;
}

/** A streaming decompressor of a zstd frame sequence (one frame after another, as `zstd -d` reads it). */
export function frameSequenceDecompressor(): ZstdDecompress {
  return createZstdDecompress({ chunkSize: 1024 * 1024 });
}
