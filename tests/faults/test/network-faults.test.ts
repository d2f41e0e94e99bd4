import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import {
  backupConfig,
  Bucket,
  type FaultProxy,
  gatewayEnv,
  MiB,
  type ProxiedRequest,
  type RequestFault,
  startFaultProxy,
  testGateway,
  uniquePrefix,
  until,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expectRestorableChain, expectWholeChain, type Manifest, type Pointer, pointerKeyOf } from './backup-intact';
import { cli, cliAsync } from './cli';

/**
 * Issue 7, case 5: connection resets and slow responses between the tool and the
 * gateway, injected by a TCP proxy (tools/testenv's fault proxy) that `s3.endpoint`
 * points at. The proxy picks requests by their HTTP head, so each fault hits a known
 * part: the first attempt of part 2 of every chunk is cut off mid-body, the first
 * response to part 3 of every chunk stalls past the request timeout, and every other
 * response is slowed. The shared gateway is only talked to, never signalled.
 */
const REQUEST_TIMEOUT_S = 2;
const S3_SETTINGS = [`request_timeout_seconds = ${REQUEST_TIMEOUT_S}`, 'concurrency = 2', 'stale_upload_age_hours = 0'].join('\n');

interface BackupJson {
  readonly outcomes: readonly { readonly result: string; readonly manifestKey: string; readonly metrics: { readonly retries: number } }[];
}

/** The retried first attempts the run logged, as "<chunk key> part <n>: <error>". */
function firstAttemptRetries(stderr: string): string[] {
  return [...stderr.matchAll(/data: UploadPart of (\S+) part (\d+) failed \(attempt 1: (.*)\); retrying in/g)].map(
    ([, key, part, error]) => `${key} part ${part}: ${error}`,
  );
}

/** Faults for the first attempt of chosen part numbers (an UploadPart's target names its part and upload). */
function firstAttemptsOf(faults: Readonly<Record<string, RequestFault>>, otherwise: RequestFault) {
  const seen = new Set<string>();
  return (request: ProxiedRequest): RequestFault => {
    const part = /[?&]partNumber=(\d+)/.exec(request.target)?.[1];
    if (request.method !== 'PUT' || part === undefined || seen.has(request.target)) return otherwise;
    seen.add(request.target);
    return faults[part] ?? otherwise;
  };
}

describe('network faults between the tool and the gateway', () => {
  const bucket = new Bucket();
  let proxy: FaultProxy | undefined;
  afterAll(() => bucket.destroy());
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('a byte flipped in a part on the way, resets mid-part and slow or stalled responses are retried per part: the run succeeds with its retries counted, and the backup is byte-exact and restores', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        const data = join(mnt, 'data');
        await btrfs.createSubvolume(data);
        await writeRandomFiles(data, 2, MiB);
        const prefix = uniquePrefix('net-faults');
        const config = backupConfig(mnt, prefix, ['data'], { s3: S3_SETTINGS });
        const first = cli(['backup', '--once', '--config', config], gatewayEnv());
        expect({ code: first.code, stderr: first.stderr }).toMatchObject({ code: 0 });
        const previous = (await bucket.json(pointerKeyOf(prefix))) as Pointer;
        // An incremental of 25 MiB and btrfs send's own bytes: two chunks (15 MiB chunks), each of three parts.
        await writeRandomFiles(join(data, 'new'), 5, 5 * MiB);

        const faults = firstAttemptsOf(
          {
            '1': { flipBodyByteAt: 1000 },
            '2': { resetAfterBodyBytes: MiB },
            '3': { responseDelayMs: (REQUEST_TIMEOUT_S + 2) * 1000 },
          },
          { responseDelayMs: 100 },
        );
        const faulty = await startFaultProxy({ upstream: testGateway().endpoint, faults });
        proxy = faulty;
        // cliAsync, not cli: the proxy runs in this process and must keep serving while the CLI runs.
        const result = await cliAsync(['backup', '--once', '--json', '--config', config], {
          ...gatewayEnv(),
          BTRFS_TO_S3__S3__ENDPOINT: faulty.endpoint,
        });
        expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });

        // Published, with the retries counted in the output and the metrics file.
        const output = JSON.parse(result.stdout) as BackupJson;
        const [outcome] = output.outcomes;
        expect(outcome?.result).toBe('published');
        expect(outcome?.metrics.retries).toBeGreaterThanOrEqual(4);
        const metricsFile = JSON.parse(await readFile(join(mnt, 'state', 'metrics.json'), 'utf8')) as BackupJson;
        expect(metricsFile.outcomes[0]?.metrics.retries).toBe(outcome?.metrics.retries);
        expect(faulty.stats()).toMatchObject({ resets: 2, flippedBodies: 2 });
        expect(faulty.stats().delayedResponses).toBeGreaterThan(2);

        // Each fault was retried as its own part: part 2 of each chunk after a reset, part 3 after the stall timed out.
        const pointer = (await bucket.json(pointerKeyOf(prefix))) as Pointer;
        expect(pointer).toMatchObject({ manifest_key: outcome?.manifestKey, kind: 'inc' });
        const manifest = (await bucket.json(pointer.manifest_key)) as Manifest;
        expect(manifest.chunks).toHaveLength(2);
        const retried = firstAttemptRetries(result.stderr);
        for (const chunk of manifest.chunks) {
          // The store checks each part against the SHA-256 it was signed with: a byte flipped on the way is refused, then resent.
          expect(retried).toContainEqual(
            expect.stringMatching(new RegExp(`^${chunk.key} part 1: XAmzContentSHA256Mismatch \\(HTTP 400\\): the store refused bytes`)),
          );
          expect(retried).toContainEqual(expect.stringMatching(new RegExp(`^${chunk.key} part 2: .*(ECONNRESET|EPIPE|socket hang up)`)));
          expect(retried).toContainEqual(
            `${chunk.key} part 3: the S3 request sent and received nothing for ${REQUEST_TIMEOUT_S} s; timed out (s3.request_timeout_seconds)`,
          );
        }

        // Byte-exact: the stored chunks are the stream btrfs send produced, the previous backup is untouched,
        // nothing is left incomplete, and a restore (straight from the gateway) equals the source snapshot.
        expect(await expectWholeChain(bucket, pointer.manifest_key)).toEqual([pointer.manifest_key, previous.manifest_key]);
        expect(await bucket.uploads(prefix)).toEqual([]);
        const restore = cli(
          ['restore', '--json', '--config', config, '--subvolume', 'data', '--target', join(mnt, 'restored')],
          gatewayEnv(),
        );
        expect({ code: restore.code, stderr: restore.stderr }).toMatchObject({ code: 0 });
        expect(JSON.parse(restore.stdout)).toMatchObject({ verification: { mode: 'full', differences: [] } });

        // The next normal run needs nothing cleaned up.
        const next = cli(['backup', '--once', '--json', '--config', config], gatewayEnv());
        expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
        const after = (await bucket.json(pointerKeyOf(prefix))) as Pointer;
        expect(await expectWholeChain(bucket, after.manifest_key)).toEqual([
          after.manifest_key,
          pointer.manifest_key,
          previous.manifest_key,
        ]);
        expect(await bucket.uploads(prefix)).toEqual([]);
      },
      { size: '2G' },
    );
  });

  it('a spooled part damaged on disk between hashing and sending is refused by the store: the run fails naming the part, publishes nothing, and the previous backup stays current', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        const data = join(mnt, 'data');
        await btrfs.createSubvolume(data);
        await writeRandomFiles(data, 1, MiB);
        const spool = join(mnt, 'spool');
        const prefix = uniquePrefix('spool-damage');
        const config = backupConfig(mnt, prefix, ['data'], {
          s3: ['concurrency = 1', 'spool_enabled = true', 'retry_attempts = 2', 'retry_base_seconds = 0.1'].join('\n'),
          global: `spool_dir = "${spool}"`,
        });
        const first = cli(['backup', '--once', '--config', config], gatewayEnv());
        expect({ code: first.code, stderr: first.stderr }).toMatchObject({ code: 0 });
        const previous = await bucket.bytes(pointerKeyOf(prefix));
        await writeRandomFiles(join(data, 'new'), 3, 4 * MiB);

        // Part 1's answer is held until part 2 sits complete in the spool (hashed as it was written); then one
        // byte of part 2's file is flipped, and part 1 is answered, so part 2 is read back damaged and sent.
        let release = (): void => undefined;
        const held = new Promise<void>((resolve) => (release = resolve));
        const faults = (request: ProxiedRequest): RequestFault | undefined =>
          request.method === 'PUT' && /[?&]partNumber=1(&|$)/.test(request.target) ? { holdResponseUntil: held } : undefined;
        const faulty = await startFaultProxy({ upstream: testGateway().endpoint, faults });
        proxy = faulty;
        const running = cliAsync(['backup', '--once', '--config', config], { ...gatewayEnv(), BTRFS_TO_S3__S3__ENDPOINT: faulty.endpoint });
        const partSize = 5 * MiB;
        let second = '';
        await until('part 2 complete in the spool', async () => {
          const files = (await readdir(spool).catch(() => [])).filter((name) => name.endsWith('-000001.part'));
          second = files[0] === undefined ? '' : join(spool, files[0]);
          return second !== '' && (await stat(second)).size === partSize;
        });
        const file = await open(second, 'r+');
        const byte = Buffer.alloc(1);
        await file.read(byte, 0, 1, 4096);
        byte[0] = (byte[0] ?? 0) ^ 0x01;
        await file.write(byte, 0, 1, 4096);
        await file.close();
        release();
        const result = await running;

        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(
          /data: backup failed: upload of chunk s3:\/\/…\/\S+ part 2 failed in UploadPart: XAmzContentSHA256Mismatch \(HTTP 400\): the store refused bytes/,
        );
        expect((await bucket.bytes(pointerKeyOf(prefix))).equals(previous)).toBe(true);
        await expectRestorableChain(bucket, prefix);
        expect(await readdir(spool)).toEqual([]);
        // Part 1 was stored (the store checked it against its signed hash): its upload and the run's snapshot
        // are kept for a resume, and the next run, with the store answering, sends only the rest.
        expect(result.stderr).toContain('the next run resumes this backup');
        const record = JSON.parse(await readFile(join(mnt, 'state', 'resume', 'data.json'), 'utf8')) as {
          open_upload: { key: string; parts: Array<{ number: number }> };
        };
        expect(record.open_upload.parts.map((part) => part.number)).toEqual([1]);
        expect(await bucket.uploads(prefix)).toEqual([record.open_upload.key]);
        const next = cli(['backup', '--once', '--json', '--config', config], gatewayEnv());
        expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
        const [outcome] = (JSON.parse(next.stdout) as { outcomes: Array<{ metrics?: { resumedBytes: number } }> }).outcomes;
        expect(outcome?.metrics?.resumedBytes).toBe(partSize);
        expect(await bucket.uploads(prefix)).toEqual([]);
        await expectRestorableChain(bucket, prefix);
      },
      { size: '1G' },
    );
  });
});
