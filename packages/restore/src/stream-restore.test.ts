import { loadRemoteConfig, type ProgressEvent } from '@org/btrfs-s3-core';
import { FakeS3Bucket, plantBackup, plantPointer } from '@org/btrfs-s3-store/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runRestoreToStream } from './index';

describe('runRestoreToStream', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stream-restore-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the chain's streams oldest first, and reports progress over the whole chain: one total, bytes rising to it, one last event", async () => {
    const bucket = new FakeS3Bucket();
    const client = bucket.asS3Client();
    const full = plantBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['full chunk 0 ', 'full chunk 1 '] });
    const inc = plantBackup(bucket, { kind: 'inc', at: new Date('2026-11-08T02:00:00Z'), parent: full, chunks: ['inc chunk 0'] });
    plantPointer(bucket, inc);
    writeFileSync(join(dir, 'config.toml'), '[s3]\nbucket = "backups"\nregion = "eu-west-1"\nprefix = "host1"\n');
    const output = new PassThrough();
    const written: Buffer[] = [];
    output.on('data', (bytes: Buffer) => written.push(bytes));
    const events: ProgressEvent[] = [];

    try {
      await runRestoreToStream({
        config: await loadRemoteConfig(join(dir, 'config.toml')),
        subvolume: 'data',
        output,
        onProgress: (event) => events.push(event),
        deps: { client },
      });
    } finally {
      client.destroy();
    }

    expect(Buffer.concat(written).toString()).toBe('full chunk 0 full chunk 1 inc chunk 0');
    const total = full.manifest.total_bytes + inc.manifest.total_bytes;
    expect(new Set(events.map((event) => event.totalBytes))).toEqual(new Set([total]));
    expect(new Set(events.map((event) => event.label))).toEqual(new Set(['data']));
    const bytes = events.map((event) => event.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(events.filter((event) => event.done)).toEqual([expect.objectContaining({ bytes: total })]);
    expect(events[events.length - 1]?.done).toBe(true);
  });
});
