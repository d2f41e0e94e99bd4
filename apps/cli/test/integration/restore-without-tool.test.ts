import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { compareTrees } from '@org/btrfs-s3-restore';
import {
  backupConfig,
  Bucket,
  gatewayEnv,
  MiB,
  run,
  sha256,
  testGateway,
  uniquePrefix,
  withArchiveProxy,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFile, link, mkdir, readdir, rename, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { cli } from '../helpers';

/** The script under test, run by its path as an operator would (so its executable bit counts too). */
const SCRIPT = resolve(__dirname, '../../../../scripts/restore-without-btrfs-to-s3.sh');
/** Debian's AWS CLI v2, which scripts/setup.sh installs; a pip-installed v1 may come first on PATH. */
const AWS_CLI = '/usr/bin/aws';

interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the script without blocking the event loop (the archive double answers it from
 * this process), with PATH, the gateway user's keys and no AWS config files, so nothing
 * of this machine's ~/.aws reaches it.
 */
async function restoreWithoutTool(args: readonly string[], env: Record<string, string> = {}): Promise<ScriptResult> {
  const gateway = testGateway();
  const child = spawn(SCRIPT, ['--aws-cli', AWS_CLI, '--bucket', gateway.bucket, '--region', gateway.region, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...gatewayEnv(),
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [stdout, stderr, [code]] = await Promise.all([text(child.stdout), text(child.stderr), once(child, 'close')]);
  return { code: typeof code === 'number' ? code : null, stdout, stderr };
}

function expectSuccess(result: ScriptResult): void {
  if (result.code !== 0) throw new Error(`the script exited ${String(result.code)}: ${result.stderr}`);
}

/** Files of several kinds, so that "the same tree" means more than the same bytes. */
async function populate(root: string): Promise<void> {
  await writeRandomFiles(join(root, 'big'), 2, 2 * MiB);
  await mkdir(join(root, 'empty-dir'));
  await writeFile(join(root, 'empty-file'), '');
  await writeFile(join(root, 'sparse'), 'head');
  await truncate(join(root, 'sparse'), 16 * MiB);
  await symlink('big/file-0.bin', join(root, 'link'));
  await link(join(root, 'empty-file'), join(root, 'hard-link'));
  await run('setfattr', ['-n', 'user.comment', '-v', 'first', join(root, 'empty-file')]);
  await run('chown', ['1234:5678', join(root, 'big', 'file-1.bin')]);
  await run('chmod', ['0750', join(root, 'empty-dir')]);
}

/** An incremental's worth of changes: appended, renamed, deleted, new, and a changed attribute. */
async function change(root: string): Promise<void> {
  await appendFile(join(root, 'big', 'file-0.bin'), randomBytes(MiB / 2));
  await rename(join(root, 'big', 'file-1.bin'), join(root, 'renamed.bin'));
  await unlink(join(root, 'link'));
  await writeRandomFiles(join(root, 'new'), 1, MiB / 4);
  await run('setfattr', ['-n', 'user.comment', '-v', 'changed', join(root, 'empty-file')]);
}

/** The restored snapshot is the source snapshot: compared by the project's tree comparison and, independently, by diff. */
async function expectExactCopy(source: string, restored: string): Promise<void> {
  const comparison = await compareTrees(source, restored, { mode: 'full', sampleMaxFiles: 0, runner: spawnProcessRunner });
  expect(comparison.differences).toEqual([]);
  expect(comparison.compared).toBeGreaterThanOrEqual(9);
  await run('diff', ['-r', '--no-dereference', source, restored]);
  const btrfs = new Btrfs(spawnProcessRunner);
  const [original, copy] = await Promise.all([btrfs.showSubvolume(source), btrfs.showSubvolume(restored)]);
  expect(copy.receivedUuid).toBe(original.uuid);
  expect(copy.readOnly).toBe(true);
}

describe('scripts/restore-without-btrfs-to-s3.sh (no btrfs-to-s3: the AWS CLI, jq, sha256sum, btrfs receive)', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  interface Backups {
    readonly prefix: string;
    /** The local snapshots backed up, oldest first: the full, then the incremental. */
    readonly snapshots: readonly string[];
    /** Every chunk key of the chain, sorted: two of the full, one of the incremental. */
    readonly chunkKeys: readonly string[];
  }

  /** A full and an incremental of `data` made by the CLI, in small chunks (DEEP_ARCHIVE, the default class). */
  async function backedUp(mnt: string, extras: { readonly s3?: string; readonly encryption?: string } = {}): Promise<Backups> {
    await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
    await populate(join(mnt, 'data'));
    const prefix = uniquePrefix('without-tool');
    const config = backupConfig(mnt, prefix, ['data'], { snapshots: 'retain = 2', ...extras });
    const env = { ...gatewayEnv(), BTRFS_TO_S3__S3__CHUNK_SIZE_BYTES: String(3 * MiB) };
    const full = cli(['backup', '--config', config], env);
    if (full.code !== 0) throw new Error(`backup exited ${String(full.code)}: ${full.stderr}`);
    await change(join(mnt, 'data'));
    expect(cli(['backup', '--once', '--config', config], env).code).toBe(0);
    const chunkKeys = (await bucket.keys(prefix)).filter((key) => key.includes('/chunks/'));
    expect(chunkKeys.map((key) => key.replace(/^.*\/(full|inc)\/.*\/(part-\d+\.bin)$/, '$1 $2'))).toEqual([
      'full part-00000.bin',
      'full part-00001.bin',
      'inc part-00000.bin',
    ]);
    const snapshots = (await readdir(join(mnt, 'snapshots'))).sort();
    expect(snapshots).toEqual([expect.stringMatching(/^data__.*__full$/), expect.stringMatching(/^data__.*__inc$/)]);
    return { prefix, snapshots, chunkKeys };
  }

  it('restores a full and an incremental from the gateway (AWS_ENDPOINT_URL) into a new path, an exact copy of the source', async () => {
    await withLoopBtrfs(async (mnt) => {
      const { prefix, snapshots } = await backedUp(mnt);
      const before = await readdir(mnt);
      const target = join(mnt, 'restored');
      const result = await restoreWithoutTool(['--prefix', prefix, '--subvolume', 'data', '--target', target], {
        AWS_ENDPOINT_URL: testGateway().endpoint,
      });
      expectSuccess(result);
      const last = snapshots[1] ?? '';
      expect(result.stdout).toBe(`${join(target, last)}\n`);
      expect((await readdir(target)).sort()).toEqual(snapshots);
      await expectExactCopy(join(mnt, 'snapshots', last), join(target, last));
      expect((await readdir(mnt)).sort()).toEqual([...before, 'restored'].sort()); // its work directory is gone
    });
  });

  it('restores an encrypted, compressed chain with --identity-file (age -d, zstd -d), and refuses without it before any thaw', async () => {
    await withLoopBtrfs(async (mnt) => {
      const keyFile = join(mnt, 'restore.key');
      const generated = cli(['key', 'generate', '--output', keyFile]);
      expect(generated.code).toBe(0);
      const { prefix, snapshots } = await backedUp(mnt, {
        s3: 'compression = "zstd"',
        encryption: `recipients = ["${generated.stdout.trim()}"]`,
      });
      const before = (await readdir(mnt)).sort();
      const target = join(mnt, 'restored');
      const args = ['--prefix', prefix, '--subvolume', 'data', '--target', target, '--endpoint', testGateway().endpoint];

      const refused = await restoreWithoutTool(args);
      expect(refused.code).toBe(ExitCode.Usage);
      expect(refused.stderr).toContain(`is encrypted (age, to ${generated.stdout.trim()}): pass --identity-file`);
      expect((await readdir(mnt)).sort()).toEqual(before);

      const result = await restoreWithoutTool([...args, '--identity-file', keyFile]);
      expectSuccess(result);
      const last = snapshots[1] ?? '';
      await expectExactCopy(join(mnt, 'snapshots', last), join(target, last));
    });
  });

  it(
    'requests the thaw of every archived chunk once, with the tier and days asked for, waits for it, then restores an exact copy',
    withArchiveProxy({ thawAfterHeads: 1 }, async (proxy) => {
      await withLoopBtrfs(async (mnt) => {
        const { prefix, snapshots, chunkKeys } = await backedUp(mnt);
        for (const key of chunkKeys) expect(await bucket.storageClass(key)).toBe('DEEP_ARCHIVE');
        const target = join(mnt, 'restored');
        const result = await restoreWithoutTool([
          ...['--endpoint', proxy.endpoint, '--prefix', prefix, '-s', 'data', '--target', target],
          ...['--tier', 'Bulk', '--days', '2', '--poll-seconds', '0.1'],
        ]);
        expectSuccess(result);
        const requests = proxy.restoreRequests();
        expect([...requests.keys()].sort()).toEqual(chunkKeys);
        for (const record of requests.values()) expect(record).toEqual({ count: 1, tier: 'Bulk', days: 2 });
        expect(result.stderr).toMatch(/\n\S+: 0 of 3 archived chunk objects are readable after \d+ s; waiting for the thaw/);
        expect(result.stderr).toMatch(/\n\S+: 3 of 3 archived chunk objects are readable after \d+ s\n/);
        const last = snapshots[1] ?? '';
        await expectExactCopy(join(mnt, 'snapshots', last), join(target, last));
      });
    }),
  );

  it(
    '--no-wait requests the thaw and exits 5 leaving nothing; a later run does not request it again, and restores once thawed',
    withArchiveProxy({}, async (proxy) => {
      await withLoopBtrfs(async (mnt) => {
        const { prefix, snapshots, chunkKeys } = await backedUp(mnt);
        const before = (await readdir(mnt)).sort();
        const target = join(mnt, 'restored');
        const args = ['--endpoint', proxy.endpoint, '--prefix', prefix, '-s', 'data', '--target', target];
        const counts = () => chunkKeys.map((key) => proxy.restoreRequests().get(key)?.count);

        const first = await restoreWithoutTool([...args, '--no-wait']);
        expect(first.code).toBe(ExitCode.RestorePending);
        expect(first.stderr).toMatch(
          /\n\S+: 0 of 3 archived chunk objects are readable; their thaw is requested \(tier Standard, 7 days\)/,
        );
        expect(counts()).toEqual([1, 1, 1]);
        expect((await readdir(mnt)).sort()).toEqual(before);

        const second = await restoreWithoutTool([...args, '--no-wait']);
        expect(second.code).toBe(ExitCode.RestorePending);
        expect(counts()).toEqual([1, 1, 1]);
        expect((await readdir(mnt)).sort()).toEqual(before);

        expect(proxy.thawAll().sort()).toEqual(chunkKeys);
        const third = await restoreWithoutTool(args);
        expectSuccess(third);
        expect(counts()).toEqual([1, 1, 1]);
        const last = snapshots[1] ?? '';
        await expectExactCopy(join(mnt, 'snapshots', last), join(target, last));
      });
    }),
  );

  it('refuses a chunk with one flipped byte before btrfs receive sees it, names the object, and removes the full it had received', async () => {
    await withLoopBtrfs(async (mnt) => {
      const { prefix, chunkKeys } = await backedUp(mnt);
      const victim = chunkKeys.find((key) => key.includes('/inc/')) ?? '';
      const original = await bucket.bytes(victim);
      const damaged = Buffer.from(original);
      damaged[1000] = (damaged[1000] ?? 0) ^ 0xff;
      await bucket.put(victim, damaged);
      const before = (await readdir(mnt)).sort();
      const target = join(mnt, 'restored');

      const result = await restoreWithoutTool(['--prefix', prefix, '-s', 'data', '--target', target], {
        AWS_ENDPOINT_URL: testGateway().endpoint,
      });
      expect(result.code).toBe(ExitCode.Fatal);
      expect(result.stderr).toContain('backup 2 of 2 (inc'); // the full was received first
      const lastLine = result.stderr.trimEnd().split('\n').at(-1);
      expect(lastLine).toBe(
        `restore-without-btrfs-to-s3: chunk ${victim} does not match its manifest: ` +
          `SHA-256 expected ${sha256(original)}, actual ${sha256(damaged)}`,
      );
      expect(result.stdout).toBe('');
      await expect(readdir(target)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await readdir(mnt)).sort()).toEqual(before);
      const subvolumes = await run('btrfs', ['subvolume', 'list', mnt]);
      expect(subvolumes).not.toContain('restored');
    });
  });
});
