import { Btrfs, spawnProcessRunner } from '@org/btrfs';
import { backupConfig, Bucket, gatewayEnv, MiB, uniquePrefix, until, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, cli } from './cli';

describe('an interrupted backup', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  const uploadsUnder = (prefix: string) => bucket.uploads(prefix);

  it('killed with SIGKILL mid-upload leaves the previous backup current, and the next run converges', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        await btrfs.createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 2, MiB);
        const prefix = uniquePrefix('kill');
        const config = backupConfig(mnt, prefix, ['data'], { s3: 'stale_upload_age_hours = 0\nconcurrency = 1' });
        expect(cli(['backup', '--config', config], gatewayEnv()).code).toBe(0);
        const pointerKey = `${prefix}/subvol/data/current.json`;
        const before = await bucket.bytes(pointerKey);
        const objectsBefore = await bucket.keys(prefix);

        await writeRandomFiles(join(mnt, 'data', 'more'), 40, 5 * MiB);
        const child = spawn(process.execPath, [BIN, 'backup', '--once', '--config', config], { env: { PATH: process.env.PATH, ...gatewayEnv() }, stdio: 'ignore' });
        await until('a multipart upload to start', async () => (await uploadsUnder(prefix)).length > 0);
        child.kill('SIGKILL');
        await once(child, 'exit');

        // Nothing a reader can see changed: the same pointer, every object it reaches still there.
        expect((await bucket.bytes(pointerKey)).equals(before)).toBe(true);
        expect((await bucket.keys(prefix)).filter((key) => objectsBefore.includes(key))).toEqual(objectsBefore);
        expect(existsSync(join(mnt, 'state', 'run.lock'))).toBe(true); // the dead run's lock is left behind
        expect((await uploadsUnder(prefix)).length).toBeGreaterThan(0); // and its incomplete upload

        // The next run recovers the lock, aborts the stale upload, and chains on the last published backup.
        const next = cli(['backup', '--once', '--json', '--config', config], gatewayEnv());
        expect(next.code).toBe(0);
        expect(await uploadsUnder(prefix)).toEqual([]);
        const pointer = JSON.parse((await bucket.bytes(pointerKey)).toString()) as { manifest_key: string; kind: string };
        expect(pointer.kind).toBe('inc');
        const manifest = (await bucket.json(pointer.manifest_key)) as { parent_manifest: string };
        expect(manifest.parent_manifest).toBe(JSON.parse(before.toString()).manifest_key);
        const state = JSON.parse(await readFile(join(mnt, 'state', 'state.json'), 'utf8'));
        expect(state.subvolumes.data.last_manifest).toBe(pointer.manifest_key);
      },
      { size: '2G' },
    );
  });

  it('stopped with SIGTERM aborts its multipart upload, removes its snapshot and releases the lock', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        await btrfs.createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 40, 5 * MiB);
        const prefix = uniquePrefix('term');
        const config = backupConfig(mnt, prefix, ['data'], { s3: 'concurrency = 1' });
        const child = spawn(process.execPath, [BIN, 'backup', '--config', config], { env: { PATH: process.env.PATH, ...gatewayEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        await until('a multipart upload to start', async () => (await uploadsUnder(prefix)).length > 0);
        child.kill('SIGTERM');
        const [code] = await once(child, 'exit');
        expect(code).toBe(1);
        expect(stderr).toContain('interrupted by SIGTERM');
        expect(await uploadsUnder(prefix)).toEqual([]);
        expect(await bucket.keys(prefix)).not.toContain(`${prefix}/subvol/data/current.json`);
        expect(existsSync(join(mnt, 'state', 'run.lock'))).toBe(false);
        expect(await btrfs.listSubvolumes(join(mnt, 'snapshots'))).toEqual([]);
      },
      { size: '2G' },
    );
  });
});
