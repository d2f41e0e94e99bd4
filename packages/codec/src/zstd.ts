import { promisify } from 'node:util';
import { constants, createZstdDecompress, zstdCompress, type ZstdDecompress } from 'node:zlib';

const compress = promisify(zstdCompress);

/**
 * One zstd frame of `data`, compressed on libuv's thread pool so that several
 * segments compress at once while the event loop keeps the uploads moving. The
 * frame records its content size; incompressible data comes out as raw blocks,
 * a few bytes larger than it went in.
 */
export async function compressFrame(data: Buffer, level: number): Promise<Buffer> {
  return compress(data, { params: { [constants.ZSTD_c_compressionLevel]: level } });
}

/** A streaming decompressor of a zstd frame sequence (one frame after another, as `zstd -d` reads it). */
export function frameSequenceDecompressor(): ZstdDecompress {
  return createZstdDecompress({ chunkSize: 1024 * 1024 });
}
