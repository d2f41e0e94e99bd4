import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { RestorePlanSchema } from '@org/btrfs-s3-restore';
import {
  backupConfig,
  Bucket,
  gatewayEnv,
  MiB,
  type ProxiedRequest,
  run,
  startFaultProxy,
  testGateway,
  uniquePrefix,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { cli, cliAsync } from '../helpers';

/**
 * Restores that cannot succeed are refused before anything is spent: no thaw request,
 * no chunk GET, nothing at the target. The restores go through a proxy that records
 * every request, so "nothing was fetched" is observed, not assumed.
 */
describe('the restore preflight', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('refuses a tmpfs target and a Btrfs too small for the chain, and prices the thaw in a dry run, fetching no chunk', async () => {
    const requests: ProxiedRequest[] = [];
    const proxy = await startFaultProxy({ upstream: testGateway().endpoint, faults: (request) => void requests.push(request) });
    try {
      await withLoopBtrfs(async (mnt) => {
        await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 12, 16 * MiB); // 192 MiB: more than the small filesystem below holds
        const prefix = uniquePrefix('preflight');
        expect(cli(['backup', '--config', backupConfig(mnt, prefix, ['data'])], gatewayEnv()).code).toBe(0);
        const config = backupConfig(mnt, prefix, ['data'], { endpoint: proxy.endpoint });
        // Asynchronous: the proxy runs in this process, which a synchronous spawn would starve.
        const restore = (target: string, ...extra: string[]) =>
          cliAsync(['restore', '--config', config, '-s', 'data', '--target', target, ...extra], gatewayEnv());
        const chunkGets = () => requests.filter((request) => request.method === 'GET' && request.target.includes('/chunks/'));
        const restoreRequests = () => requests.filter((request) => /[?&]restore(=|&|$)/.test(request.target));

        const tmpfs = mkdtempSync(join(tmpdir(), 'preflight-tmpfs-'));
        await run('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', tmpfs]);
        try {
          const onTmpfs = await restore(join(tmpfs, 'restored'));
          expect(onTmpfs.code).toBe(2);
          expect(onTmpfs.stderr).toContain(`--target ${join(tmpfs, 'restored')} is not on a Btrfs filesystem`);
          expect(existsSync(join(tmpfs, 'restored'))).toBe(false);
        } finally {
          await run('umount', [tmpfs]);
          rmSync(tmpfs, { recursive: true, force: true });
        }

        await withLoopBtrfs(
          async (small) => {
            const target = join(small, 'restored');
            const tooSmall = await restore(target);
            expect(tooSmall.code).toBe(2);
            expect(tooSmall.stderr).toMatch(
              /its filesystem has [\d.]+ GiB free and the chain's send streams are 0\.2 GiB; free space or restore elsewhere/,
            );
            expect(existsSync(target)).toBe(false);

            const dryRun = await restore(target, '--dry-run', '--json', '--skip-space-check');
            expect(dryRun.code).toBe(0);
            const plan = v.parse(RestorePlanSchema, JSON.parse(dryRun.stdout));
            expect(plan.chain.map((link) => [link.kind, link.storageClass])).toEqual([['full', 'DEEP_ARCHIVE']]);
            expect(plan).toMatchObject({ spaceChecked: false, archivedObjects: plan.objects, tier: 'Standard' });
            expect(plan.bytes).toBeGreaterThan(192 * MiB);
            expect(plan.thaw.map((entry) => `${entry.storageClass} ${entry.tier}`)).toEqual(['DEEP_ARCHIVE Standard', 'DEEP_ARCHIVE Bulk']);
            expect(existsSync(target)).toBe(false);
          },
          { size: '160M' },
        );
        expect(chunkGets()).toEqual([]);
        expect(restoreRequests()).toEqual([]);
        expect(requests.length).toBeGreaterThan(0); // the manifests were read through the proxy
      });
    } finally {
      await proxy.close();
    }
  });
});
