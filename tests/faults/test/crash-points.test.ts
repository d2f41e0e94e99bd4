import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { backupConfig, Bucket, gatewayEnv, MiB, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectRestorableChain, expectSameContent, pointerKeyOf, readPointer } from './backup-intact';
import { cli } from './cli';

/**
 * A backup killed with SIGKILL (no cleanup runs: a power cut, the OOM killer) at
 * each step of its publish sequence. The process kills itself at a named
 * failpoint (BTRFS_TO_S3_FAILPOINT, see apps/cli/src/failpoints.ts), so each case
 * hits its step exactly. One part in flight (`concurrency = 1`) makes "between
 * chunks" a real gap. Where the killed run had stored parts, the next run resumes it
 * (resume.test.ts has the details).
 */
const POINTS = [
  ['backup:snapshot-created', 'right after taking its snapshot'],
  ['backup:first-part-uploaded', 'early in the first chunk'],
  ['backup:chunk-completed', 'between two chunks'],
  ['backup:chunks-uploaded', 'after the last chunk, before the manifest'],
  ['backup:manifest-written', 'between the manifest and current.json'],
  ['backup:pointer-written', 'after current.json, before local state'],
] as const;

/** Where the killed run had stored parts of its stream: the next run resumes it and does not send them again. */
const RESUMED = new Set<string>(['backup:first-part-uploaded', 'backup:chunk-completed', 'backup:chunks-uploaded']);

describe('a backup killed with SIGKILL', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it.each(POINTS)(
    'at %s (%s) loses nothing: the current backup stays whole, the next run converges, and a restore is exact',
    async (point) => {
      await withLoopBtrfs(
        async (mnt) => {
          const btrfs = new Btrfs(spawnProcessRunner);
          const data = join(mnt, 'data');
          await btrfs.createSubvolume(data);
          await writeRandomFiles(data, 2, MiB);
          const prefix = uniquePrefix('crash');
          const config = backupConfig(mnt, prefix, ['data'], { s3: 'concurrency = 1', snapshots: 'retain = 2' });
          const backup = (env: Record<string, string> = {}) =>
            cli(['backup', '--once', '--json', '--config', config], { ...gatewayEnv(), ...env });

          expect(backup().code).toBe(0);
          const first = await readPointer(bucket, prefix);
          const pointerBefore = await bucket.bytes(pointerKeyOf(prefix));

          // Enough new data for an incremental of two chunks (15 MiB chunks).
          await writeRandomFiles(join(data, 'new'), 5, 5 * MiB);
          await appendFile(join(data, 'file-0.bin'), 'changed');
          const killed = backup({ BTRFS_TO_S3_FAILPOINT: point });
          expect(killed.signal).toBe('SIGKILL');

          // (c) What readers see is a whole backup: the previous one, unless the pointer itself was written.
          const published = point === 'backup:pointer-written';
          if (!published) expect((await bucket.bytes(pointerKeyOf(prefix))).equals(pointerBefore)).toBe(true);
          const chainAfterCrash = await expectRestorableChain(bucket, prefix);
          expect(chainAfterCrash.at(-1)).toBe(first.manifest_key);

          // (d) The next normal run needs no manual cleanup and chains on what current.json named.
          const current = (await readPointer(bucket, prefix)).manifest_key;
          const next = backup();
          expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
          const [outcome] = (JSON.parse(next.stdout) as { outcomes: Array<{ metrics?: { resumedBytes: number } }> }).outcomes;
          if (RESUMED.has(point)) expect(outcome?.metrics?.resumedBytes).toBeGreaterThan(0);
          else expect(outcome?.metrics?.resumedBytes).toBe(0);
          const pointer = await readPointer(bucket, prefix);
          expect(pointer.kind).toBe('inc');
          const manifest = (await bucket.json(pointer.manifest_key)) as { parent_manifest: string; snapshot: { name: string } };
          expect(manifest.parent_manifest).toBe(current);
          expect(await bucket.uploads(prefix)).toEqual([]); // the dead run's multipart upload was aborted
          const state = JSON.parse(await readFile(join(mnt, 'state', 'state.json'), 'utf8'));
          expect(state.subvolumes.data.last_manifest).toBe(pointer.manifest_key);
          // No leftover of the dead run in the lock or the snapshot directory that the next run trips on.
          const snapshots = (await btrfs.listSubvolumes(join(mnt, 'snapshots'))).map((entry) => entry.name);
          expect(snapshots).toContain(manifest.snapshot.name);
          expect(snapshots.length).toBeLessThanOrEqual(2);

          const restored = cli(
            ['restore', '--config', config, '--subvolume', 'data', '--target', join(mnt, 'restored'), '--verify', 'full'],
            gatewayEnv(),
          );
          expect({ code: restored.code, stderr: restored.stderr }).toMatchObject({ code: 0 });
          await expectSameContent(data, join(mnt, 'restored', manifest.snapshot.name));
        },
        { size: '1G' },
      );
    },
  );
});
