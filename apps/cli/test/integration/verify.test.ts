import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import {
  backupConfig,
  Bucket,
  gatewayEnv,
  MiB,
  startArchiveProxy,
  testGateway,
  uniquePrefix,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { VerifyReportSchema } from '@org/btrfs-s3-bucket';
import { ErrorOutputSchema, VerifyOutputSchema } from '../../src/output-schemas';
import { cli, cliAsync } from '../helpers';

interface Chunk {
  key: string;
  size: number;
}

describe('verify against the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  /** A full and an incremental of `data`; returns the config and the incremental's first chunk. */
  async function backedUp(mnt: string): Promise<{ config: string; prefix: string; incChunk: Chunk }> {
    await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
    await writeRandomFiles(join(mnt, 'data'), 2, MiB);
    const prefix = uniquePrefix('verify');
    const config = backupConfig(mnt, prefix, ['data']);
    expect(cli(['backup', '--config', config], gatewayEnv()).code).toBe(ExitCode.Success);
    await appendFile(join(mnt, 'data', 'file-0.bin'), Buffer.alloc(MiB, 9));
    expect(cli(['backup', '--once', '--config', config], gatewayEnv()).code).toBe(ExitCode.Success);
    const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { manifest_key: string };
    const manifest = (await bucket.json(pointer.manifest_key)) as { chunks: Chunk[] };
    const incChunk = manifest.chunks[0];
    if (incChunk === undefined) throw new Error('the incremental has no chunk');
    return { config, prefix, incChunk };
  }

  const verify = (config: string, ...args: string[]) => cli(['verify', '--config', config, ...args], gatewayEnv());

  /** The failure JSON of a verify that found problems: the error, and the report with them. */
  function failedReport(stdout: string) {
    const output = v.parse(VerifyOutputSchema, JSON.parse(stdout));
    if (!('report' in output)) throw new Error(`expected a failed verify, got ${stdout}`);
    v.parse(ErrorOutputSchema, output);
    return output;
  }

  it('passes an intact chain, finds a same-size corruption only with --read-data, and names a resized and a deleted chunk', async () => {
    await withLoopBtrfs(async (mnt) => {
      const { config, prefix, incChunk } = await backedUp(mnt);

      const plain = verify(config, '--json');
      expect(plain.code).toBe(ExitCode.Success);
      const report = v.parse(VerifyReportSchema, v.parse(VerifyOutputSchema, JSON.parse(plain.stdout)));
      expect(report).toMatchObject({ ok: true, reads: 'none', sample: null });
      expect(report.subvolumes).toHaveLength(1);
      expect(report.subvolumes[0]?.chain.map((link) => link.kind)).toEqual(['full', 'inc']);
      expect(report.subvolumes[0]?.currentManifest).toMatch(new RegExp(`^${prefix}/subvol/data/inc/`));
      const total = report.subvolumes[0]?.chunks.total ?? 0;
      expect(report.subvolumes[0]?.chunks).toEqual({ total, present: total, read: 0, skipped: 0 });

      const full = verify(config, '--read-data', '--json');
      expect(full.code).toBe(ExitCode.Success);
      expect(v.parse(VerifyReportSchema, JSON.parse(full.stdout)).subvolumes[0]).toMatchObject({
        ok: true,
        chunks: { total, present: total, read: total, skipped: 0 },
        streamsVerified: 2,
      });

      const sampled = verify(config, '--sample', '1', '--json');
      expect(sampled.code).toBe(ExitCode.Success);
      expect(v.parse(VerifyReportSchema, JSON.parse(sampled.stdout))).toMatchObject({ reads: 'sample', sample: 1 });

      // Same size, one byte different: HeadObject cannot tell, the re-hash can.
      const original = await bucket.bytes(incChunk.key);
      const corrupt = Buffer.from(original);
      corrupt[100] = (corrupt[100] ?? 0) ^ 0xff;
      await bucket.put(incChunk.key, corrupt);
      expect(verify(config).code).toBe(ExitCode.Success);
      const reread = verify(config, '--read-data');
      expect(reread.code).toBe(ExitCode.Fatal);
      expect(reread.stdout).toMatch(
        new RegExp(`^  HASH ${incChunk.key} part 1: expected part sha256 [0-9a-f]{64}, got [0-9a-f]{64}$`, 'm'),
      );
      expect(reread.stderr).toContain('verify found 1 problem(s): data (1)');
      const rereadJson = failedReport(verify(config, '--read-data', '--json').stdout);
      expect(rereadJson.error.exitCode).toBe(ExitCode.Fatal);
      expect(rereadJson.report.subvolumes[0]?.problems).toEqual([expect.objectContaining({ key: incChunk.key, problem: 'hash' })]);

      await bucket.put(incChunk.key, Buffer.concat([original, Buffer.from('extra')]));
      const resized = verify(config);
      expect(resized.code).toBe(ExitCode.Fatal);
      expect(resized.stdout).toContain(`  SIZE ${incChunk.key}: expected ${incChunk.size} bytes, found ${incChunk.size + 5}\n`);

      await bucket.client.send(new DeleteObjectsCommand({ Bucket: bucket.name, Delete: { Objects: [{ Key: incChunk.key }] } }));
      const missing = failedReport(verify(config, '--json').stdout);
      expect(missing.report.subvolumes[0]?.problems).toEqual([
        {
          key: incChunk.key,
          problem: 'missing',
          message: `MISSING ${incChunk.key}: expected ${incChunk.size} bytes, the object does not exist`,
          expected: String(incChunk.size),
          actual: null,
        },
      ]);
    });
  });

  it('fails a subvolume without current.json and a chain whose manifest is damaged, naming the key', async () => {
    await withLoopBtrfs(async (mnt) => {
      const { config, prefix } = await backedUp(mnt);
      const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { manifest_key: string };
      await bucket.put(pointer.manifest_key, '{"version": 1, "chunks": ');
      const damaged = verify(config);
      expect(damaged.code).toBe(ExitCode.Fatal);
      expect(damaged.stdout).toContain(`manifest ${pointer.manifest_key} is not valid JSON`);

      await bucket.client.send(
        new DeleteObjectsCommand({ Bucket: bucket.name, Delete: { Objects: [{ Key: `${prefix}/subvol/data/current.json` }] } }),
      );
      const none = failedReport(verify(config, '--json').stdout);
      expect(none.report.subvolumes[0]?.problems).toEqual([
        expect.objectContaining({ key: `${prefix}/subvol/data/current.json`, problem: 'no-backup' }),
      ]);
    });
  });

  it('with --read-data reports archived chunks that are not thawed as skipped, not failed', async () => {
    await withLoopBtrfs(async (mnt) => {
      const { config } = await backedUp(mnt);
      const gateway = testGateway();
      // The archive double answers GETs of DEEP_ARCHIVE objects with InvalidObjectState until thawed, as S3 does.
      const proxy = await startArchiveProxy({
        upstream: gateway.endpoint,
        credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '' },
        region: gateway.region,
      });
      try {
        const result = await cliAsync(['verify', '--read-data', '--config', config], {
          ...gatewayEnv(),
          BTRFS_TO_S3__S3__ENDPOINT: proxy.endpoint,
        });
        expect(result.code).toBe(ExitCode.Success);
        expect(result.stdout).toMatch(/^ {2}\d+ chunk\(s\) not readable without a thaw \(run restore to thaw\): skipped, not failed$/m);
        expect(proxy.restoreRequests().size).toBe(0);
      } finally {
        await proxy.close();
      }
    });
  });
});
