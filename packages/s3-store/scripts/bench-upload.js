#!/usr/bin/env node
// Uploads a pipe (`cat FILE`, standing in for `btrfs send`) through S3Bucket.uploadChunkedStream
// to the gateway named by BTRFS_S3_TEST_* (the test env file), then deletes what it wrote.
// Measure with: /usr/bin/time -v node scripts/bench-upload.js FILE [partMiB] [concurrency] [chunkMiB]
// Needs a build (dist/). Prints JSON: bytes, seconds, MB/s, parts, retries, peak RSS (MiB).
const { spawn } = require('node:child_process');
const { DeleteObjectsCommand } = require('@aws-sdk/client-s3');
const { S3Bucket } = require('../dist');
const { createS3Client } = require('../dist/client');

async function main() {
  const [file, partMiB = '16', concurrency = '4', chunkMiB = '128'] = process.argv.slice(2);
  if (!file) throw new Error('usage: bench-upload.js FILE [partMiB] [concurrency] [chunkMiB]');
  const env = process.env;
  const client = createS3Client({
    region: env.BTRFS_S3_TEST_REGION,
    endpoint: env.BTRFS_S3_TEST_ENDPOINT,
    path_style: true,
    checksum_mode: 'when_required',
    concurrency: Number(concurrency),
  });
  const bucket = env.BTRFS_S3_TEST_BUCKET;
  const prefix = `bench/${Date.now()}`;
  const producer = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  // BENCH_MEMORY=1 also prints peak heap and ArrayBuffer MiB, to tell the part pool from the rest.
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    for (const name of Object.keys(peak)) peak[name] = Math.max(peak[name], Math.round(usage[name] / 2 ** 20));
  }, 20);
  const started = process.hrtime.bigint();
  const result = await new S3Bucket(client, { bucket, sse: 'AES256' }).uploadChunkedStream(
    { source: producer.stdout, keyForChunk: (i) => `${prefix}/part-${String(i).padStart(5, '0')}.bin`, storageClass: 'DEEP_ARCHIVE' },
    { partSizeBytes: Number(partMiB) * 2 ** 20, concurrency: Number(concurrency), chunkSizeBytes: Number(chunkMiB) * 2 ** 20 },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: result.chunks.map((c) => ({ Key: c.key })) } }));
  client.destroy();
  clearInterval(sampler);
  if (env.BENCH_MEMORY) console.log(JSON.stringify(peak));
  console.log(
    JSON.stringify({
      bytes: result.totalBytes,
      seconds: +seconds.toFixed(2),
      MBps: +(result.totalBytes / seconds / 1e6).toFixed(1),
      chunks: result.chunks.length,
      parts: result.partCount,
      retries: result.retries,
      maxRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
