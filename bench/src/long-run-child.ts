// The uploader under test in a scale run, alone in its process so that its RSS and CPU
// are the uploader's: it spawns the source (scale-source.js) and reads its stdout exactly
// as a backup reads `btrfs send` (Btrfs.send, through a runner that starts the source in
// its place), streams it through S3Bucket.uploadChunkedStream into the sink,
// and reports over IPC. Started by long-run.ts with the CLI's Node flags and
// `--expose-gc`, which only lets it weigh what the run keeps per part.
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import type { ProcessRunner } from '@org/btrfs-s3-core';
import { createS3Client, S3Bucket, uploadOptionsFromConfig } from '@org/btrfs-s3-store';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStatus } from './proc-stats';
import { chunkKeyFor, sinkConfig } from './scale-config';
import { type ChildReport, type ChildRequest, type HeapPoint, parseChildRequest } from './scale-protocol';

/**
 * The heap is weighed after every GiB acknowledged: often enough for a slope over a long
 * run, and per byte, not per part, so the collections (10-20 ms each) cost runs with small
 * parts no more than runs with large ones.
 */
const HEAP_EVERY_BYTES = 2 ** 30;

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** A full collection, when the process was started with --expose-gc. */
function collectedHeap(): number | undefined {
  const gc: unknown = Reflect.get(globalThis, 'gc');
  if (typeof gc !== 'function') return undefined;
  gc();
  return process.memoryUsage().heapUsed;
}

export async function uploadToSink(request: ChildRequest): Promise<ChildReport> {
  const config = sinkConfig(request.endpoint, request);
  const client = createS3Client(config.s3);
  const startCpuSeconds = cpuSeconds();
  const started = performance.now();
  // `btrfs send` is the scale source here; everything else is the real runner's.
  const sourceRunner: ProcessRunner = {
    run: (command, args, options) => spawnProcessRunner.run(command, args, options),
    spawn: (_command, _args, options) =>
      spawnProcessRunner.spawn(process.execPath, [join(__dirname, 'scale-source.js'), String(request.sizeBytes)], options),
  };
  const source = new Btrfs(sourceRunner).send('/scale-source', { buffers: 'reused' });
  const heap: HeapPoint[] = [];
  let parts = 0;
  let nextHeapAt = HEAP_EVERY_BYTES;
  const upload = new S3Bucket(client, config.s3).uploadChunkedStream(
    { source, keyForChunk: chunkKeyFor, storageClass: config.s3.storage_class_chunks },
    {
      ...uploadOptionsFromConfig(config),
      onProgress: ({ bytesUploaded }) => {
        parts += 1;
        if (bytesUploaded < nextHeapAt) return;
        nextHeapAt += HEAP_EVERY_BYTES;
        const heapBytes = collectedHeap();
        if (heapBytes !== undefined) heap.push({ parts, heapBytes });
      },
    },
  );
  // A failed upload destroys the stream, which kills the source; a source that exits non-zero fails the stream.
  const result = await upload.finally(() => client.destroy());
  const uploadSeconds = (performance.now() - started) / 1000;
  if (result.totalBytes !== request.sizeBytes) throw new Error(`uploaded ${result.totalBytes} bytes of ${request.sizeBytes}`);
  return {
    kind: 'done',
    totalBytes: result.totalBytes,
    partCount: result.partCount,
    chunkCount: result.chunks.length,
    partSizeBytes: config.s3.part_size_bytes,
    concurrency: config.s3.concurrency,
    retries: result.retries,
    uploadSeconds,
    startCpuSeconds,
    cpuSeconds: cpuSeconds(),
    peakRssBytes: parseStatus(readFileSync('/proc/self/status', 'utf8')).peakRssBytes,
    heap,
  };
}

if (require.main === module) {
  // The runner went away (killed outright): stop rather than upload to nobody.
  process.on('disconnect', () => process.exit(1));
  const report = (message: ChildReport, code: number) => process.send?.(message, () => process.exit(code));
  new Promise<ChildRequest>((resolve) => resolve(parseChildRequest(process.argv[2] ?? ''))).then(uploadToSink).then(
    (done) => report(done, 0),
    (error: unknown) => report({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }, 1),
  );
}
