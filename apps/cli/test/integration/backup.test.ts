import { BackupResultSchema } from '@org/btrfs-s3-backup';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { run, withLoopBtrfs } from '@org/testenv';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../helpers';
import { backupConfig, Bucket, gatewayEnv, sha256, uniquePrefix, writeRandomFiles } from '@org/testenv';
import * as v from 'valibot';

const MiB = 1024 * 1024;
const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'schema', 'manifest.v2.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateManifest = ajv.compile(schema);

interface Chunk {
  key: string;
  size: number;
  sha256: string;
  parts: { number: number; size: number; sha256: string }[];
}
interface ManifestDoc {
  kind: string;
  parent_manifest: string | null;
  chunks: Chunk[];
  total_bytes: number;
  snapshot: { name: string; uuid: string };
  private: { clear: { stream_sha256: string } };
}

function backup(config: string, ...args: string[]) {
  const result = cli(['backup', '--json', '--config', config, ...args], gatewayEnv());
  if (result.code !== 0) throw new Error(`backup exited ${result.code}: ${result.stderr}\n${result.stdout}`);
  return v.parse(BackupResultSchema, JSON.parse(result.stdout));
}

/** Checks one published backup against everything the format promises, returning its manifest. */
async function verifyPublished(
  bucket: Bucket,
  prefix: string,
  subvolume: string,
  kind: 'full' | 'inc',
): Promise<{ key: string; manifest: ManifestDoc; stream: Buffer }> {
  const pointer = (await bucket.json(`${prefix}/subvol/${subvolume}/current.json`)) as { manifest_key: string; kind: string };
  expect(pointer.kind).toBe(kind);
  expect(pointer.manifest_key).toMatch(new RegExp(`^${prefix}/subvol/${subvolume}/${kind}/\\d{8}T\\d{6}Z/manifest\\.json$`));
  const manifest = (await bucket.json(pointer.manifest_key)) as ManifestDoc;
  expect(validateManifest(manifest)).toBe(true);
  expect(manifest.kind).toBe(kind);
  const backupDir = pointer.manifest_key.replace(/\/manifest\.json$/, '');
  expect(manifest.chunks.map((chunk) => chunk.key)).toEqual(
    manifest.chunks.map((_chunk, index) => `${backupDir}/chunks/part-${String(index).padStart(5, '0')}.bin`),
  );
  expect(manifest.chunks.reduce((sum, chunk) => sum + chunk.size, 0)).toBe(manifest.total_bytes);
  const pieces: Buffer[] = [];
  for (const chunk of manifest.chunks) {
    const bytes = await bucket.bytes(chunk.key);
    expect(bytes.length).toBe(chunk.size);
    expect(sha256(bytes)).toBe(chunk.sha256);
    let offset = 0;
    for (const part of chunk.parts) {
      expect(sha256(bytes.subarray(offset, offset + part.size))).toBe(part.sha256);
      offset += part.size;
    }
    expect(await bucket.storageClass(chunk.key)).toBe('DEEP_ARCHIVE');
    pieces.push(bytes);
  }
  expect(await bucket.storageClass(pointer.manifest_key)).toBe('STANDARD');
  expect(await bucket.storageClass(`${prefix}/subvol/${subvolume}/current.json`)).toBe('STANDARD');
  const stream = Buffer.concat(pieces);
  expect(sha256(stream)).toBe(manifest.private.clear.stream_sha256);
  return { key: pointer.manifest_key, manifest, stream };
}

describe('backup on real Btrfs and the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('backs up three subvolumes in full, then chains incrementals after changes', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const names = ['alpha', 'beta', 'gamma'];
      for (const [index, name] of names.entries()) {
        await btrfs.createSubvolume(join(mnt, name));
        await writeRandomFiles(join(mnt, name), 3, (index + 1) * MiB);
        await writeRandomFiles(join(mnt, name, 'small'), 50, 300);
      }
      const prefix = uniquePrefix('three');
      const config = backupConfig(mnt, prefix, names, { snapshots: 'retain = 1' });

      const first = backup(config);
      expect(
        first.outcomes.map((outcome) => [outcome.subvolume, outcome.result, outcome.result === 'published' ? outcome.metrics.kind : null]),
      ).toEqual(names.map((name) => [name, 'published', 'full']));
      const fulls = new Map<string, string>();
      for (const name of names) fulls.set(name, (await verifyPublished(bucket, prefix, name, 'full')).key);

      await appendFile(join(mnt, 'alpha', 'file-0.bin'), Buffer.alloc(2 * MiB, 7));
      await writeRandomFiles(join(mnt, 'beta', 'new'), 2, MiB);
      const second = backup(config, '--once');
      expect(
        second.outcomes.map((outcome) => [outcome.subvolume, outcome.result, outcome.result === 'published' ? outcome.metrics.kind : null]),
      ).toEqual(names.map((name) => [name, 'published', 'inc']));
      for (const name of names) {
        const { key, manifest } = await verifyPublished(bucket, prefix, name, 'inc');
        expect(manifest.parent_manifest).toBe(fulls.get(name));
        const state = JSON.parse(await readFile(join(mnt, 'state', 'state.json'), 'utf8'));
        expect(state.subvolumes[name]).toMatchObject({ last_kind: 'inc', last_manifest: key, last_snapshot: manifest.snapshot.name });
        // The full's objects stay: they are the base of the chain that current.json reaches.
        expect(await bucket.keys(fulls.get(name) ?? '')).toEqual([fulls.get(name)]);
      }
      // Retention (retain = 1) kept only each subvolume's newest snapshot, the next parent.
      const snapshots = (await readdir(join(mnt, 'snapshots'))).sort();
      expect(snapshots).toHaveLength(3);
      expect(snapshots.every((name) => name.endsWith('__inc'))).toBe(true);
      const metrics = JSON.parse(await readFile(join(mnt, 'state', 'metrics.json'), 'utf8'));
      expect(metrics.outcomes).toHaveLength(3);
    });
  });

  it('splits a stream into several multi-part chunks whose concatenation is the btrfs send stream, byte for byte', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 8, 5 * MiB);
      const prefix = uniquePrefix('multichunk');
      backup(backupConfig(mnt, prefix, ['data']));
      const { manifest, stream } = await verifyPublished(bucket, prefix, 'data', 'full');
      expect(manifest.chunks.length).toBeGreaterThanOrEqual(3);
      for (const chunk of manifest.chunks.slice(0, -1)) {
        expect(chunk.size).toBe(15 * MiB);
        expect(chunk.parts.map((part) => part.size)).toEqual([5 * MiB, 5 * MiB, 5 * MiB]);
      }
      const direct = await run('sh', ['-c', `btrfs send -q ${join(mnt, 'snapshots', manifest.snapshot.name)} | sha256sum`]);
      expect(direct.split(' ')[0]).toBe(sha256(stream));
    });
  });

  it('--dry-run prints the plan and changes nothing; --no-s3 only takes snapshots', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 1, MiB);
      const prefix = uniquePrefix('dryrun');
      const config = backupConfig(mnt, prefix, ['data']);

      const dry = cli(['backup', '--dry-run', '--config', config], gatewayEnv());
      expect(dry.code).toBe(ExitCode.Success);
      expect(dry.stdout).toBe('data: full (first backup of this subvolume)\n');
      expect((await readdir(mnt)).sort()).toEqual(['data']);
      expect(await bucket.keys(prefix)).toEqual([]);

      // No S3 at all: an endpoint that refuses connections must not matter.
      const offline = cli(['backup', '--no-s3', '--config', config], { ...gatewayEnv(), BTRFS_TO_S3__S3__ENDPOINT: 'http://127.0.0.1:9' });
      expect(offline.code).toBe(ExitCode.Success);
      expect(offline.stdout).toMatch(/^data: snapshot data__\d{8}T\d{6}Z__full taken, not uploaded \(--no-s3\)\n$/);
      expect(await readdir(join(mnt, 'snapshots'))).toHaveLength(1);
      expect(await bucket.keys(prefix)).toEqual([]);
      const state = JSON.parse(await readFile(join(mnt, 'state', 'state.json'), 'utf8'));
      expect(state.subvolumes).toEqual({}); // nothing was uploaded, so nothing can be a parent
    });
  });

  it('refuses a bad --subvolume before any side effect', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      const prefix = uniquePrefix('badflag');
      const result = cli(['backup', '--config', backupConfig(mnt, prefix, ['data']), '--subvolume', 'nope'], gatewayEnv());
      expect(result.code).toBe(ExitCode.Usage);
      expect(result.stderr).toContain('--subvolume: unknown subvolume "nope"');
      expect((await readdir(mnt)).sort()).toEqual(['data']);
      expect(await bucket.keys(prefix)).toEqual([]);
    });
  });
});
