import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { backupConfig, Bucket, gatewayEnv, startRefusingProxy, testGateway, uniquePrefix, withLoopBtrfs } from '@org/testenv';
import { join } from 'node:path';
import * as v from 'valibot';
import { DoctorOutputSchema } from '../../src/output-schemas';
import { cli, cliAsync } from '../helpers';

/**
 * `doctor` against the real gateway and loop Btrfs: it passes on the test setup (SSE-S3,
 * DEEP_ARCHIVE chunks), and names the key when the store refuses a storage class (the
 * gateway has no ONEZONE_IA placement) or SSE (a proxy answering as the stock gateway
 * does without a key source; for SSE-KMS the gateway itself, which has no KMS). Its
 * probe objects are gone afterwards either way.
 */
describe('doctor', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('passes against the gateway, and names a refused storage class or SSE', async () => {
    await withLoopBtrfs(async (mnt) => {
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      const prefix = uniquePrefix('doctor');

      const passed = cli(['doctor', '--json', '--config', backupConfig(mnt, prefix, ['data'])], gatewayEnv());
      expect(passed.code).toBe(0);
      const report = v.parse(DoctorOutputSchema, JSON.parse(passed.stdout));
      if (!('checks' in report)) throw new Error(`doctor failed: ${passed.stdout}`);
      expect(report.checks.filter((check) => check.status === 'fail')).toEqual([]);
      const byName = new Map(report.checks.map((check) => [check.check, check]));
      for (const name of [
        'root',
        'btrfs',
        'subvolume',
        'snapshot-dir',
        'bucket-access',
        'clock',
        'manifest-write',
        'chunk-write',
        'delete',
      ])
        expect(byName.get(name)?.status).toBe('ok');
      expect(byName.get('chunk-write')?.detail).toMatch(/storage class DEEP_ARCHIVE and SSE AES256 was accepted/);
      expect(await bucket.keys(`${prefix}/`)).toEqual([]);

      const refusedClass = cli(
        ['doctor', '--config', backupConfig(mnt, prefix, ['data'], { s3: 'storage_class_chunks = "ONEZONE_IA"' })],
        gatewayEnv(),
      );
      expect(refusedClass.code).toBe(1);
      expect(refusedClass.stdout).toMatch(/FAIL {2}chunk-write: .*refuses storage class ONEZONE_IA \(s3\.storage_class_chunks\)/);
      expect(refusedClass.stdout).toMatch(/ok {4}manifest-write/);
      expect(await bucket.keys(`${prefix}/`)).toEqual([]);

      const refusing = await startRefusingProxy({
        upstream: testGateway().endpoint,
        refuse: (req) =>
          req.headers['x-amz-server-side-encryption'] === undefined
            ? undefined
            : {
                status: 400,
                code: 'InvalidRequest',
                message: 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.',
              },
      });
      try {
        const config = backupConfig(mnt, prefix, ['data'], { endpoint: refusing.endpoint });
        const refusedSse = await cliAsync(['doctor', '--config', config], gatewayEnv());
        expect(refusedSse.code).toBe(1);
        expect(refusedSse.stdout).toMatch(/FAIL {2}manifest-write: .*refuses server-side encryption \(s3\.sse = "AES256"/);
        expect(refusedSse.stdout).toMatch(/FAIL {2}chunk-write: .*refuses server-side encryption/);
        expect(refusing.refused()).toBeGreaterThanOrEqual(2);
      } finally {
        await refusing.close();
      }
      expect(await bucket.keys(`${prefix}/`)).toEqual([]);
    });
  });

  it('names SSE-KMS (s3.sse and s3.sse_kms_key_id) when the gateway, which has no KMS key source, refuses it', async () => {
    await withLoopBtrfs(async (mnt) => {
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      const prefix = uniquePrefix('doctor-kms');
      const config = backupConfig(mnt, prefix, ['data'], { s3: 'sse = "aws:kms"\nsse_kms_key_id = "alias/backups"' });

      const refused = cli(['doctor', '--config', config], gatewayEnv());

      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/FAIL {2}manifest-write: the store refuses server-side encryption \(s3\.sse = "aws:kms"/);
      expect(refused.stdout).toMatch(/FAIL {2}chunk-write: the store refuses server-side encryption \(s3\.sse = "aws:kms"/);
      expect(await bucket.keys(`${prefix}/`)).toEqual([]);
    });
  });
});
