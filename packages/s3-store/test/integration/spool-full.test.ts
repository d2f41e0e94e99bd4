import { MiB } from '@org/btrfs-s3-core';
import { run } from '@org/testenv';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkUploadError, SpoolFullError } from '../../src/upload/errors';
import { uploadChunkedStream } from '../../src/upload/upload-chunked-stream';
import { gatewayScope, incompleteUploads, streamOf } from './gateway';

describe('disk spool on a full filesystem', () => {
  it('fails naming global.spool_dir and leaves neither part files nor multipart uploads', async () => {
    const scope = gatewayScope('spool-full');
    const dir = await mkdtemp(join(tmpdir(), 'spool-full-'));
    // A 2 MiB tmpfs: the first 5 MiB part cannot fit, so the write fails with ENOSPC.
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir]);
    try {
      const upload = uploadChunkedStream(
        {
          client: scope.client,
          bucket: scope.bucket,
          source: streamOf(randomBytes(12 * MiB)),
          keyForChunk: (index) => `${scope.prefix}part-${index}.bin`,
          storageClass: 'STANDARD',
          sse: 'AES256',
        },
        { chunkSizeBytes: 12 * MiB, partSizeBytes: 5 * MiB, concurrency: 2, spool: { dir, maxBytes: 16 * MiB } },
      );
      const error = await upload.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(ChunkUploadError);
      expect(error).toMatchObject({ operation: 'spool', partNumber: 1 });
      expect(error instanceof ChunkUploadError ? error.cause : undefined).toBeInstanceOf(SpoolFullError);
      expect(String(error)).toContain(`spool directory ${dir} is full (global.spool_dir)`);
      expect(await readdir(dir)).toEqual([]);
      expect(await incompleteUploads(scope.client, scope.bucket, scope.prefix)).toEqual([]);
    } finally {
      await run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
      await scope.cleanup();
    }
  });
});
