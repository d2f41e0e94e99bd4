import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { PruneResultSchema, runPrune } from '@org/btrfs-s3-bucket';
import { ExitCode, loadConfig } from '@org/btrfs-s3-core';
import { backupConfig, Bucket, gatewayEnv, MiB, uniquePrefix, until, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { cli } from '../helpers';

const GRACE_HOURS = 0.0003; // about 1 s: a failed run's chunks age past it within the test

describe('prune against the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  const keysOf = async (prefix: string, dir: string) => bucket.keys(`${prefix}/subvol/data/${dir}/`);

  function prune(config: string, env: Record<string, string> = {}, ...args: string[]) {
    const result = cli(['prune', '--json', '--config', config, ...args], { ...gatewayEnv(), ...env });
    if (result.code !== ExitCode.Success) throw new Error(`prune exited ${result.code}: ${result.stderr}\n${result.stdout}`);
    return { output: v.parse(PruneResultSchema, JSON.parse(result.stdout)), stderr: result.stderr };
  }

  /** Runs a backup and returns the directory (`full/<ts>` or `inc/<ts>`) current.json then points to. */
  async function backup(config: string, prefix: string, ...args: string[]): Promise<string> {
    const result = cli(['backup', '--config', config, ...args], gatewayEnv());
    if (result.code !== ExitCode.Success) throw new Error(`backup exited ${result.code}: ${result.stderr}`);
    const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { manifest_key: string };
    return pointer.manifest_key.replace(`${prefix}/subvol/data/`, '').replace(/\/manifest\.json$/, '');
  }

  it('keeps retain_generations generations and every generation current.json reaches, deleting older ones whole', async () => {
    await withLoopBtrfs(async (mnt) => {
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 1, MiB);
      const prefix = uniquePrefix('prune');
      const config = backupConfig(mnt, prefix, ['data'], { s3: 'retain_generations = 2\nprune_after_backup = false' });
      const change = (name: string) => writeRandomFiles(join(mnt, 'data'), 1, MiB / 4, name);

      // Three generations: full, inc, full, inc, full.
      const f1 = await backup(config, prefix);
      await change('a');
      const i1 = await backup(config, prefix, '--once');
      const f2 = await backup(config, prefix, '--once', '--full');
      await change('b');
      const i2 = await backup(config, prefix, '--once');
      const pointerAtI2 = await bucket.bytes(`${prefix}/subvol/data/current.json`);
      const f3 = await backup(config, prefix, '--once', '--full');
      expect([f1, f2, f3].every((dir) => dir.startsWith('full/'))).toBe(true);
      expect([i1, i2].every((dir) => dir.startsWith('inc/'))).toBe(true);
      // A failed run's chunks, younger than the default 24 h grace period: kept throughout.
      const failedRun = `${prefix}/subvol/data/inc/29991231T000000Z`;
      await bucket.put(`${failedRun}/chunks/part-00000.bin`, Buffer.alloc(100, 1));
      const before = await bucket.keys(`${prefix}/`);

      const dry = prune(config, {}, '--dry-run');
      expect(dry.output.dryRun).toBe(true);
      expect(dry.output.subvolumes[0]?.delete.map((entry) => [entry.dir, entry.reason, entry.dirs])).toEqual([
        [`${prefix}/subvol/data/${f1}`, 'old-generation', [`${prefix}/subvol/data/${f1}`, `${prefix}/subvol/data/${i1}`]],
      ]);
      expect(dry.output.subvolumes[0]?.keep.map((entry) => [entry.dir, entry.reason])).toEqual([
        [`${prefix}/subvol/data/${f3}`, 'current'],
        [`${prefix}/subvol/data/${f2}`, 'retained'],
        [failedRun, 'within-grace'],
      ]);
      expect(dry.output.subvolumes[0]?.deletedObjects).toBe(0);
      expect(await bucket.keys(`${prefix}/`)).toEqual(before);

      const pruned = prune(config);
      const deleted = pruned.output.subvolumes[0];
      expect(deleted?.deletedObjects).toBe(before.filter((key) => key.includes(`/${f1}/`) || key.includes(`/${i1}/`)).length);
      expect(await keysOf(prefix, f1)).toEqual([]);
      expect(await keysOf(prefix, i1)).toEqual([]);
      for (const dir of [f2, i2, f3]) expect(await keysOf(prefix, dir)).toContain(`${prefix}/subvol/data/${dir}/manifest.json`);
      // Fresh DEEP_ARCHIVE chunks: deleting them early is charged as if kept 180 days, and prune says so first.
      expect(deleted?.earlyDeletions).toEqual([expect.objectContaining({ storageClass: 'DEEP_ARCHIVE', minimumDays: 180 })]);
      expect(pruned.stderr).toMatch(/deleting \d+ object\(s\) \(.+\) in DEEP_ARCHIVE before its 180-day minimum storage duration/);

      // A run that died after publishing f3's manifest but before current.json: current.json
      // still reaches i2, so with one generation retained both f3 (newest) and f2 + i2 stay.
      await bucket.put(`${prefix}/subvol/data/current.json`, pointerAtI2);
      const one = { BTRFS_TO_S3__S3__RETAIN_GENERATIONS: '1' };
      const reachable = prune(config, one);
      expect(reachable.output.subvolumes[0]?.delete).toEqual([]);
      expect(reachable.output.subvolumes[0]?.keep.map((entry) => [entry.dir, entry.reason])).toEqual([
        [`${prefix}/subvol/data/${f3}`, 'retained'],
        [`${prefix}/subvol/data/${f2}`, 'current'],
        [failedRun, 'within-grace'],
      ]);
      for (const dir of [f2, i2, f3]) expect(await keysOf(prefix, dir)).toContain(`${prefix}/subvol/data/${dir}/manifest.json`);
      expect(await bucket.keys(`${failedRun}/`)).toEqual([`${failedRun}/chunks/part-00000.bin`]);
    });
  });

  it("deletes a failed run's chunks only after the grace period, and takes the backup lock", async () => {
    // prune needs no Btrfs: the config's paths only name the subvolume and hold the lock.
    const dir = await mkdtemp(join(tmpdir(), 'prune-'));
    try {
      await pruneFailedRun(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("dates a failed run by its open upload's newest part (ListParts), so a long upload survives another host's prune; once that is past grace too, its chunks go and the upload is aborted", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prune-'));
    try {
      const prefix = uniquePrefix('prune-upload');
      const config = await loadConfig(backupConfig(dir, prefix, ['data']));
      const run = `${prefix}/subvol/data/full/20261125T020000Z`;
      await bucket.put(`${run}/chunks/part-00000.bin`, Buffer.alloc(1000, 1));
      const key = `${run}/chunks/part-00001.bin`;
      const { UploadId } = await bucket.client.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: key }));
      const partAt = async () => {
        await bucket.client.send(
          new UploadPartCommand({ Bucket: bucket.name, Key: key, UploadId, PartNumber: 1, Body: Buffer.alloc(10, 2) }),
        );
        const listed = await bucket.client.send(new ListPartsCommand({ Bucket: bucket.name, Key: key, UploadId }));
        return listed.Parts?.[0]?.LastModified?.getTime() ?? 0;
      };
      // Dated as prune dates it: the listing's LastModified (milliseconds on this gateway).
      const listing = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.name, Prefix: `${run}/` }));
      const objectAt = listing.Contents?.[0]?.LastModified?.getTime() ?? Number.NaN;
      // A part re-sent until it is dated at least 2 s after the chunk, so the two dates cannot blur.
      let lastPart = 0;
      await until('a part dated 2 s after the chunk', async () => (lastPart = await partAt()) >= objectAt + 2_000);
      const graceMs = config.s3.prune_grace_hours * 3_600_000;
      const pruneAt = (now: number) =>
        runPrune({ config, deps: { now: () => new Date(now) }, writer: { id: 'c'.repeat(32), host: 'other' } });

      // 1 s past the grace period for the chunk (which alone would have it deleted), 1 s or more within it for the part: kept.
      const between = await pruneAt(objectAt + graceMs + 1_000);
      expect(between.subvolumes[0]?.keep).toEqual([expect.objectContaining({ dir: run, reason: 'within-grace', objects: 1 })]);
      expect(await bucket.keys(`${prefix}/`)).toEqual([`${run}/chunks/part-00000.bin`]);

      const later = await pruneAt(lastPart + graceMs + 60_000);
      expect(later.subvolumes[0]?.delete).toEqual([expect.objectContaining({ dir: run, reason: 'failed-run' })]);
      expect(await bucket.keys(`${prefix}/`)).toEqual([]);
      const open = await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: `${prefix}/` }));
      expect(open.Uploads ?? []).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** Waits until every object under `prefix` is older than the grace period, judged by LastModified as prune judges it. */
  async function agedPastGrace(prefix: string): Promise<void> {
    await until('the orphaned chunks to age past the grace period', async () => {
      const listing = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.name, Prefix: `${prefix}/` }));
      return (listing.Contents ?? []).every(
        (object) => Date.now() - (object.LastModified?.getTime() ?? Date.now()) > GRACE_HOURS * 3_600_000,
      );
    });
  }

  it('after a backup, prunes only the subvolumes it published, and only with s3.prune_after_backup', async () => {
    await withLoopBtrfs(async (mnt) => {
      for (const name of ['data', 'home']) {
        await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, name));
        await writeRandomFiles(join(mnt, name), 1, MiB / 4);
      }
      const prefix = uniquePrefix('prune-after');
      const settings = (pruneAfter: boolean) => ({ s3: `prune_grace_hours = ${GRACE_HOURS}\nprune_after_backup = ${pruneAfter}` });
      await backup(backupConfig(mnt, prefix, ['data', 'home'], settings(false)), prefix);
      const orphans = ['data', 'home'].map((name) => `${prefix}/subvol/${name}/full/20261125T020000Z/chunks/part-00000.bin`);
      for (const key of orphans) await bucket.put(key, Buffer.alloc(10, 1));
      await agedPastGrace(prefix);

      // Published, but s3.prune_after_backup is false: nothing is pruned.
      await backup(backupConfig(mnt, prefix, ['data', 'home'], settings(false)), prefix, '--once', '--subvolume', 'data');
      expect(await bucket.keys(`${prefix}/subvol/data/full/20261125T020000Z/`)).toEqual([orphans[0]]);

      // data is published, home is not backed up in this run: only data's failed run goes.
      await backup(backupConfig(mnt, prefix, ['data', 'home'], settings(true)), prefix, '--once', '--subvolume', 'data');
      expect(await bucket.keys(`${prefix}/subvol/data/full/20261125T020000Z/`)).toEqual([]);
      expect(await bucket.keys(`${prefix}/subvol/home/full/20261125T020000Z/`)).toEqual([orphans[1]]);
    });
  });

  async function pruneFailedRun(dir: string): Promise<void> {
    const prefix = uniquePrefix('prune-grace');
    const config = backupConfig(dir, prefix, ['data']);
    const orphan = `${prefix}/subvol/data/inc/20261125T020000Z/chunks/part-00000.bin`;
    await bucket.put(orphan, Buffer.alloc(1000, 1));
    await bucket.put(`${prefix}/subvol/data/inc/20261125T020000Z/chunks/part-00001.bin`, Buffer.alloc(10, 1));

    const young = prune(config);
    expect(young.output.subvolumes[0]?.keep).toEqual([
      expect.objectContaining({
        what: 'incomplete',
        dir: `${prefix}/subvol/data/inc/20261125T020000Z`,
        reason: 'within-grace',
        objects: 2,
        bytes: 1010,
      }),
    ]);
    expect(await bucket.keys(`${prefix}/`)).toHaveLength(2);

    // A live holder of the lock (a backup in progress) keeps prune out.
    const holder = spawn('sleep', ['60']);
    try {
      await once(holder, 'spawn');
      await mkdir(join(dir, 'state'), { recursive: true });
      await writeFile(
        join(dir, 'state', 'run.lock'),
        JSON.stringify({ pid: holder.pid, proc_start: null, host: 'h', started_at: '2026-11-25T02:00:00.000Z' }),
      );
      const busy = cli(['prune', '--config', config], { ...gatewayEnv(), BTRFS_TO_S3__S3__PRUNE_GRACE_HOURS: String(GRACE_HOURS) });
      expect(busy.code).toBe(ExitCode.LockBusy);
      expect(busy.stderr).toContain(`PID ${holder.pid}`);
    } finally {
      holder.kill('SIGKILL');
    }
    await once(holder, 'exit');

    // The gateway sets LastModified, which cannot be backdated: wait until both objects are older than the grace period.
    await agedPastGrace(prefix);
    const old = prune(config, { BTRFS_TO_S3__S3__PRUNE_GRACE_HOURS: String(GRACE_HOURS) });
    expect(old.output.subvolumes[0]?.delete).toEqual([expect.objectContaining({ what: 'incomplete', reason: 'failed-run', objects: 2 })]);
    expect(old.output.subvolumes[0]?.deletedObjects).toBe(2);
    expect(await bucket.keys(`${prefix}/`)).toEqual([]);
  }
});
