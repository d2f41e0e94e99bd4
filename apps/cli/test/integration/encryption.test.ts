import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { RestoreResultSchema } from '@org/btrfs-s3-restore';
import { backupConfig, Bucket, gatewayEnv, MiB, run, sha256, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { cli } from '../helpers';

/** A string that appears many times in the source data, and must appear in no stored object. */
const MARKER = 'PLAINTEXT-MARKER-7f3a9c';

interface Manifest {
  version: number;
  chunks: { key: string; size: number; plain_size: number }[];
  total_bytes: number;
  stored_bytes: number;
  encoding: { compression: string; encryption: string; recipients: string[] };
  private: { age?: string; clear?: unknown };
  snapshot: Record<string, unknown>;
}

/** Compressible text full of the marker, beside some random (incompressible) files. */
async function writeData(dir: string, tag: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const lines = Array.from({ length: 40_000 }, (_, index) => `${MARKER} ${tag} line ${index} of a very compressible file\n`);
  await writeFile(join(dir, `text-${tag}.txt`), lines.join(''));
  await writeRandomFiles(dir, 2, MiB / 2, `random-${tag}`);
}

function tool(command: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync(command, args, { input, maxBuffer: 256 * MiB });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(result.status)}: ${result.stderr.toString()}`);
  return result.stdout;
}

describe('client-side encryption (age) and compression (zstd) on the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('stores nothing readable, stores compressible data smaller, restores exactly with the identity and refuses without it; the age and zstd CLIs decode every chunk', async () => {
    await withLoopBtrfs(async (mnt) => {
      const keyFile = join(mnt, 'backup.key');
      const generated = cli(['key', 'generate', '--output', keyFile]);
      expect(generated.code).toBe(0);
      const recipient = generated.stdout.trim();
      expect(recipient).toMatch(/^age1[a-z0-9]{58}$/);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(cli(['key', 'generate', '--output', keyFile]).code).toBe(2); // never over an existing key
      expect(readFileSync(keyFile, 'utf8')).toContain(recipient);

      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      await writeData(join(mnt, 'data'), 'one');
      const prefix = uniquePrefix('encryption');
      // The backing-up host has the recipient only; the identity is given to restore alone.
      const config = backupConfig(mnt, prefix, ['data'], {
        s3: 'compression = "zstd"\ncompression_level = 3',
        encryption: `recipients = ["${recipient}"]`,
      });
      expect(cli(['backup', '--config', config], gatewayEnv()).code).toBe(0);
      await writeData(join(mnt, 'data'), 'two');
      const incremental = cli(['backup', '--once', '--config', config], gatewayEnv());
      expect(incremental.code).toBe(0);

      const keys = await bucket.keys(`${prefix}/`);
      for (const key of keys) expect((await bucket.bytes(key)).includes(MARKER)).toBe(false);
      const manifestKeys = keys.filter((key) => key.endsWith('/manifest.json')).sort();
      expect(manifestKeys).toHaveLength(2);
      for (const key of manifestKeys) {
        const manifest = (await bucket.json(key)) as Manifest;
        expect(manifest.version).toBe(2);
        expect(manifest.encoding).toEqual({ compression: 'zstd', encryption: 'age', recipients: [recipient] });
        expect(manifest.private.age).toContain('BEGIN AGE ENCRYPTED FILE');
        expect(manifest.snapshot).not.toHaveProperty('path');
        // The text dominates the stream: stored well below it, though the random files do not shrink.
        expect(manifest.stored_bytes).toBeLessThan(manifest.total_bytes * 0.8);
      }

      // Without the identity: refused before any download, naming what is missing, nothing at the target.
      await withLoopBtrfs(async (elsewhere) => {
        const target = join(elsewhere, 'r');
        const refused = cli(['restore', '--config', config, '-s', 'data', '--target', target], gatewayEnv());
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain(`is encrypted (age, to ${recipient})`);
        expect(refused.stderr).toContain('--identity-file');
        expect(existsSync(target)).toBe(false);

        const stranger = join(elsewhere, 'stranger.key');
        expect(cli(['key', 'generate', '--output', stranger]).code).toBe(0);
        const wrong = cli(['restore', '--config', config, '-s', 'data', '--target', target, '--identity-file', stranger], gatewayEnv());
        expect(wrong.code).toBe(2);
        expect(wrong.stderr).toContain(`no identity in ${stranger}`);
        expect(existsSync(target)).toBe(false);

        const restored = cli(
          ['restore', '--json', '--config', config, '-s', 'data', '--target', target, '--identity-file', keyFile],
          gatewayEnv(),
        );
        expect(restored.code).toBe(0);
        const result = v.parse(RestoreResultSchema, JSON.parse(restored.stdout));
        expect(result.chain).toHaveLength(2);
        await run('diff', ['-r', '--no-dereference', join(mnt, 'snapshots', result.chain[1]?.snapshot ?? ''), result.snapshotPath]);
      });

      // The stock tools alone: every chunk through `age -d` and `zstd -d`, in key order, then `btrfs receive`.
      await withLoopBtrfs(async (elsewhere) => {
        for (const key of manifestKeys) {
          const manifest = (await bucket.json(key)) as Manifest;
          const stream = Buffer.concat(
            await Promise.all(
              manifest.chunks.map(async ({ key: chunk }) =>
                tool('zstd', ['-d', '-c'], tool('age', ['-d', '-i', keyFile], await bucket.bytes(chunk))),
              ),
            ),
          );
          expect(stream.length).toBe(manifest.total_bytes);
          expect(stream.includes(MARKER)).toBe(true); // the marker was there to find: its absence above means something
          const file = join(elsewhere, `stream-${sha256(Buffer.from(key)).slice(0, 8)}`);
          writeFileSync(file, stream);
          await run('btrfs', ['receive', '-f', file, elsewhere]);
        }
        const last = (await bucket.json(manifestKeys[1] ?? '')) as Manifest & { snapshot: { name: string } };
        await run('diff', ['-r', '--no-dereference', join(mnt, 'snapshots', last.snapshot.name), join(elsewhere, last.snapshot.name)]);
      });
    });
  });

  it('restores a chain whose full an earlier release wrote (manifest v1) and whose incremental is encrypted and compressed (v2)', async () => {
    await withLoopBtrfs(async (mnt) => {
      const keyFile = join(mnt, 'backup.key');
      const generated = cli(['key', 'generate', '--output', keyFile]);
      expect(generated.code).toBe(0);
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      await writeData(join(mnt, 'data'), 'one');
      const prefix = uniquePrefix('upgrade');
      const plain = backupConfig(mnt, prefix, ['data']);
      expect(cli(['backup', '--config', plain], gatewayEnv()).code).toBe(0);

      // Rewrite the full's manifest as version 1 described it (what the upgrade finds in the bucket).
      const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { manifest_key: string };
      const full = (await bucket.json(pointer.manifest_key)) as Record<string, unknown> &
        Manifest & {
          private: { clear: { snapshot_path: string; stream_sha256: string } };
        };
      const { private: secret, snapshot, chunks, ...rest } = full;
      const v1 = {
        ...rest,
        stored_bytes: undefined, // JSON.stringify drops the keys version 1 does not have
        encoding: undefined,
        version: 1,
        snapshot: { ...snapshot, path: secret.clear.snapshot_path },
        chunks: chunks.map(({ plain_size: _plain, ...chunk }) => chunk),
        restore: { stream_sha256: secret.clear.stream_sha256, chunk_hash_algo: 'sha256' },
      };
      await bucket.put(pointer.manifest_key, JSON.stringify(v1));

      await writeData(join(mnt, 'data'), 'two');
      const encrypted = backupConfig(mnt, prefix, ['data'], {
        s3: 'compression = "zstd"',
        encryption: `recipients = ["${generated.stdout.trim()}"]\nidentity_file = "${keyFile}"`,
      });
      expect(cli(['backup', '--once', '--config', encrypted], gatewayEnv()).code).toBe(0);
      const listed = cli(['list', '--json', '--config', encrypted], gatewayEnv());
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout).subvolumes[0].restorablePoints.map((point: { kind: string }) => point.kind)).toEqual([
        'full',
        'inc',
      ]);
      expect(cli(['verify', '--read-data', '--config', encrypted], gatewayEnv()).code).toBe(0);
      // The drill restores the mixed chain with the configured identity file, and proves it.
      const scratch = join(mnt, 'scratch');
      await mkdir(scratch);
      const drilled = cli(['drill', '--json', '--thaw', '--config', encrypted, '--scratch', scratch], gatewayEnv());
      if (drilled.code !== 0) throw new Error(`drill exited ${String(drilled.code)}: ${drilled.stderr} ${drilled.stdout}`);
      expect(JSON.parse(drilled.stdout)).toMatchObject({ ok: true, subvolumes: [{ subvolume: 'data', ok: true, backups: 2 }] });

      await withLoopBtrfs(async (elsewhere) => {
        const restored = cli(['restore', '--json', '--config', encrypted, '-s', 'data', '--target', join(elsewhere, 'r')], gatewayEnv());
        expect(restored.code).toBe(0);
        const result = v.parse(RestoreResultSchema, JSON.parse(restored.stdout));
        expect(result.chain.map((link) => link.manifestKey)[0]).toBe(pointer.manifest_key);
        await run('diff', ['-r', '--no-dereference', join(mnt, 'snapshots', result.chain[1]?.snapshot ?? ''), result.snapshotPath]);
      });
    });
  });
});
