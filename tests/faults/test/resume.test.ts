import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import {
  backupConfig,
  Bucket,
  gatewayEnv,
  MiB,
  type ProxiedRequest,
  startFaultProxy,
  testGateway,
  uniquePrefix,
  until,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectRestorableChain, expectSameContent, readPointer } from './backup-intact';
import { cli, cliAsync, startBackground } from './cli';

/**
 * An interrupted full resumes where it stopped (docs/failure-model.md, "Resume"): the next
 * run re-reads the same snapshot, proves each stored chunk (and each stored part of the
 * open upload) by its hash, and uploads only the rest. The resumed run goes through a
 * request-logging proxy (in this process: runs through it must not block the event loop), so "only the rest" is what the gateway was sent, not what the
 * tool says. 15 MiB chunks of 5 MiB parts, one part in flight: chunk and part boundaries
 * are the kill points.
 */
const CHUNK = 15 * MiB;
const PART = 5 * MiB;

interface Published {
  readonly subvolume: string;
  readonly result: string;
  readonly metrics?: { readonly resumedBytes: number; readonly chunks: number };
}

const resumePath = (mnt: string) => join(mnt, 'state', 'resume', 'data.json');
const readRecord = async (mnt: string) =>
  JSON.parse(await readFile(resumePath(mnt), 'utf8')) as {
    chunks: Array<{ key: string; plain_sha256: string }>;
    open_upload: { key: string; parts: Array<{ number: number }> } | null;
    snapshot: { name: string };
  };

/** UploadPart requests (PUT with partNumber) as the proxy saw them: [chunk file name, part number]. */
const uploadedParts = (requests: readonly ProxiedRequest[]) =>
  requests.flatMap((request) => {
    const match = /\/(part-\d{5}\.bin)\?.*partNumber=(\d+)/.exec(request.target);
    return request.method === 'PUT' && match !== null ? [[match[1], Number(match[2])] as const] : [];
  });

describe('resuming an interrupted full backup', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  /**
   * A subvolume whose full is five chunks, a config for it, and a backup run through a
   * request-logging proxy. `extra` adds config lines to [s3] and [encryption].
   */
  async function setUp(mnt: string, name: string, extra: { s3?: string; encryption?: string } = {}) {
    const btrfs = new Btrfs(spawnProcessRunner);
    const data = join(mnt, 'data');
    await btrfs.createSubvolume(data);
    await writeRandomFiles(data, 7, 10 * MiB);
    const prefix = uniquePrefix(name);
    const s3 = `concurrency = 1\n${extra.s3 ?? ''}`;
    const config = backupConfig(mnt, prefix, ['data'], { s3, ...(extra.encryption === undefined ? {} : { encryption: extra.encryption }) });
    const requests: ProxiedRequest[] = [];
    const proxy = await startFaultProxy({
      upstream: testGateway().endpoint,
      faults: (request) => {
        requests.push(request);
        return undefined;
      },
    });
    const proxied = backupConfig(mnt, prefix, ['data'], {
      s3,
      endpoint: proxy.endpoint,
      ...(extra.encryption === undefined ? {} : { encryption: extra.encryption }),
    });
    // Asynchronous: the proxy runs in this process, so a synchronous spawn would stall it.
    const resumed = async () => {
      requests.length = 0;
      const run = await cliAsync(['backup', '--once', '--json', '--config', proxied], gatewayEnv());
      const outcome = run.code === 0 ? ((JSON.parse(run.stdout) as { outcomes: Published[] }).outcomes[0] ?? undefined) : undefined;
      return { ...run, outcome, parts: uploadedParts(requests) };
    };
    return { btrfs, data, prefix, config, proxy, resumed };
  }

  /** The published chain restores to exactly the subvolume's content. */
  async function expectExactRestore(mnt: string, config: string, data: string, prefix: string, restoreArgs: string[] = []) {
    const pointer = await readPointer(bucket, prefix);
    // An encrypted chain's hashes are sealed: the restore below (verify full, with the identity) checks it.
    if (restoreArgs.length === 0) await expectRestorableChain(bucket, prefix);
    const restored = cli(
      ['restore', '--config', config, '-s', 'data', '--target', join(mnt, 'restored'), '--verify', 'full', ...restoreArgs],
      gatewayEnv(),
    );
    expect({ code: restored.code, stderr: restored.stderr }).toMatchObject({ code: 0 });
    const manifest = (await bucket.json(pointer.manifest_key)) as { snapshot: { name: string } };
    await expectSameContent(data, join(mnt, 'restored', manifest.snapshot.name));
  }

  it('killed (SIGKILL) after two chunks: the next run uploads only the other three, and the chain restores exactly', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const { data, prefix, config, proxy, resumed } = await setUp(mnt, 'resume-kill');
        try {
          const killed = cli(['backup', '--config', config], { ...gatewayEnv(), BTRFS_TO_S3_FAILPOINT: 'backup:chunk-completed#2' });
          expect(killed.signal).toBe('SIGKILL');
          expect((await readRecord(mnt)).chunks).toHaveLength(2);

          // Prune keeps what the record names, even past the grace period that would delete a failed run's chunks.
          const graceConfig = backupConfig(mnt, prefix, ['data'], { s3: 'concurrency = 1\nprune_grace_hours = "1s"' });
          const pruneEntries = (args: string[]) => {
            const pruned = cli(['prune', '--json', ...args, '--config', graceConfig], gatewayEnv());
            expect({ code: pruned.code, stderr: pruned.stderr }).toMatchObject({ code: 0 });
            const [result] = (JSON.parse(pruned.stdout) as { subvolumes: Array<Record<'keep' | 'delete', Array<{ reason: string }>>> })
              .subvolumes;
            return result ?? { keep: [], delete: [] };
          };
          await rename(resumePath(mnt), `${resumePath(mnt)}.aside`);
          await until('the killed run to be past the grace period', () =>
            pruneEntries(['--dry-run']).delete.some((entry) => entry.reason === 'failed-run'),
          );
          await rename(`${resumePath(mnt)}.aside`, resumePath(mnt));
          expect(pruneEntries([]).keep.map((entry) => entry.reason)).toContain('resumable');

          const next = await resumed();
          expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
          expect(next.stderr).toContain('resuming the interrupted full backup');
          expect(next.outcome?.metrics?.resumedBytes).toBe(2 * CHUNK);
          const sent = new Set(next.parts.map(([chunk]) => chunk));
          expect(sent.has('part-00000.bin') || sent.has('part-00001.bin')).toBe(false);
          expect([...sent].sort()).toEqual(['part-00002.bin', 'part-00003.bin', 'part-00004.bin']);
          expect(await bucket.uploads(prefix)).toEqual([]);
          expect(existsSync(resumePath(mnt))).toBe(false);
          await expectExactRestore(mnt, config, data, prefix);
        } finally {
          await proxy.close();
        }
      },
      { size: '1G' },
    );
  });

  it('stopped (SIGTERM) after a chunk: exit 143, keeps its snapshot, and the next run resumes it', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        // Paced, so the stop lands while chunks remain: the test waits for the record, not for time.
        const { btrfs, data, prefix, config, proxy, resumed } = await setUp(mnt, 'resume-term', { s3: 'max_upload_rate = "8MiB/s"' });
        try {
          const run = startBackground(['backup', '--config', config], gatewayEnv());
          await until('a chunk in the resume record', async () => existsSync(resumePath(mnt)) && (await readRecord(mnt)).chunks.length > 0);
          run.child.kill('SIGTERM');
          const stopped = await run.done;
          expect(stopped.code).toBe(143);
          expect(stopped.stderr).toContain('the next run resumes this backup');
          const record = await readRecord(mnt);
          expect((await btrfs.listSubvolumes(join(mnt, 'snapshots'))).map((entry) => entry.name)).toContain(record.snapshot.name);

          const status = cli(['status', '--json', '--config', config], gatewayEnv());
          const pending = (JSON.parse(status.stdout) as { subvolumes: Array<{ pendingResume: { snapshot: string } | null }> })
            .subvolumes[0];
          expect(pending?.pendingResume?.snapshot).toBe(record.snapshot.name);

          const next = await resumed();
          expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
          expect(next.outcome?.metrics?.resumedBytes).toBeGreaterThanOrEqual(record.chunks.length * CHUNK);
          for (const chunk of record.chunks) expect(next.parts.map(([name]) => name)).not.toContain(chunk.key.split('/').at(-1));
          expect(await bucket.uploads(prefix)).toEqual([]);
          await expectExactRestore(mnt, config, data, prefix);
        } finally {
          await proxy.close();
        }
      },
      { size: '1G' },
    );
  });

  it('a recorded chunk hash that the re-read does not match: says so, starts afresh and publishes a correct backup', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const { btrfs, data, prefix, config, proxy, resumed } = await setUp(mnt, 'resume-altered');
        try {
          expect(cli(['backup', '--config', config], { ...gatewayEnv(), BTRFS_TO_S3_FAILPOINT: 'backup:chunk-completed#1' }).signal).toBe(
            'SIGKILL',
          );
          const record = await readRecord(mnt);
          const [first] = record.chunks;
          if (first === undefined) throw new Error('the killed run recorded no chunk');
          first.plain_sha256 = 'f'.repeat(64);
          await writeFile(resumePath(mnt), JSON.stringify(record));

          const next = await resumed();
          expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
          expect(next.stderr).toMatch(
            new RegExp(
              `not resuming the interrupted full backup of ${record.snapshot.name}: chunk 0's slice of the send stream differs.*; starting afresh`,
            ),
          );
          expect(next.outcome?.metrics?.resumedBytes).toBe(0);
          const manifest = (await bucket.json((await readPointer(bucket, prefix)).manifest_key)) as { snapshot: { name: string } };
          expect(manifest.snapshot.name).not.toBe(record.snapshot.name);
          expect((await btrfs.listSubvolumes(join(mnt, 'snapshots'))).map((entry) => entry.name)).not.toContain(record.snapshot.name);
          expect(await bucket.uploads(prefix)).toEqual([]);
          await expectExactRestore(mnt, config, data, prefix);
        } finally {
          await proxy.close();
        }
      },
      { size: '1G' },
    );
  });

  it('killed inside an unencrypted chunk: the next run checks the open upload, sends only its missing parts, and completes it', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const { data, prefix, config, proxy, resumed } = await setUp(mnt, 'resume-inside');
        try {
          // The fifth acknowledged part is the second of chunk 1 (chunk 0 holds three).
          expect(
            cli(['backup', '--config', config], { ...gatewayEnv(), BTRFS_TO_S3_FAILPOINT: 'backup:first-part-uploaded#5' }).signal,
          ).toBe('SIGKILL');
          const record = await readRecord(mnt);
          expect(record.chunks).toHaveLength(1);
          // Parts go to the small open-upload file; the record itself was rewritten when chunk 0 completed.
          const open = JSON.parse(await readFile(join(mnt, 'state', 'resume', 'data.open.json'), 'utf8')) as {
            chunk_index: number;
            open_upload: { parts: Array<{ number: number }> };
          };
          expect([open.chunk_index, open.open_upload.parts.map((part) => part.number)]).toEqual([1, [1, 2]]);
          expect(await bucket.uploads(prefix)).toHaveLength(1);

          const next = await resumed();
          expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
          expect(next.outcome?.metrics?.resumedBytes).toBe(CHUNK + 2 * PART);
          expect(next.parts.filter(([chunk]) => chunk === 'part-00000.bin')).toEqual([]);
          expect(next.parts.filter(([chunk]) => chunk === 'part-00001.bin')).toEqual([['part-00001.bin', 3]]);
          expect(await bucket.uploads(prefix)).toEqual([]);
          await expectExactRestore(mnt, config, data, prefix);
        } finally {
          await proxy.close();
        }
      },
      { size: '1G' },
    );
  });

  it('with encryption, an open chunk starts over and the completed ones are kept', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const keyFile = join(mnt, 'backup.key');
        const generated = cli(['key', 'generate', '--output', keyFile]);
        expect(generated.code).toBe(0);
        const { data, prefix, config, proxy, resumed } = await setUp(mnt, 'resume-sealed', {
          encryption: `recipients = ["${generated.stdout.trim()}"]`,
        });
        try {
          // An encrypted chunk is a little over 15 MiB: four parts. The sixth part is the second of chunk 1.
          expect(
            cli(['backup', '--config', config], { ...gatewayEnv(), BTRFS_TO_S3_FAILPOINT: 'backup:first-part-uploaded#6' }).signal,
          ).toBe('SIGKILL');
          const record = await readRecord(mnt);
          expect(record.chunks).toHaveLength(1);
          expect(record.open_upload).toBeNull(); // an encrypted chunk's parts are never recorded

          const next = await resumed();
          expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
          expect(next.outcome?.metrics?.resumedBytes).toBe(CHUNK);
          const sent = next.parts.map(([chunk]) => chunk);
          expect(sent).not.toContain('part-00000.bin');
          expect(next.parts.filter(([chunk, part]) => chunk === 'part-00001.bin' && part === 1)).toHaveLength(1); // chunk 1 from its start
          expect(await bucket.uploads(prefix)).toEqual([]);
          await expectExactRestore(mnt, config, data, prefix, ['--identity-file', keyFile]);
        } finally {
          await proxy.close();
        }
      },
      { size: '1G' },
    );
  });
});
