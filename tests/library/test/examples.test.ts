import { AbortMultipartUploadCommand, DeleteObjectsCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { runBackup } from '@org/btrfs-s3-backup';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode, loadConfig } from '@org/btrfs-s3-core';
import {
  backupConfig,
  Bucket,
  type CliResult,
  gatewayEnv,
  MiB,
  runCliAsync,
  sha256,
  uniquePrefix,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { lstat, mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** The examples as the README shows them, run as plain Node scripts. */
const BACKUP_AND_RESTORE = join(__dirname, '..', 'examples', 'backup-and-restore.js');
const LIST_AND_VERIFY = join(dirname(require.resolve('@org/btrfs-s3-bucket/package.json')), 'examples', 'list-and-verify.js');
/** Preloaded into a run to write the modules it loaded to $LOADED_MODULES_FILE at exit. */
const REPORT_LOADED_MODULES = join(__dirname, 'report-loaded-modules.js');
const CLI_BIN = join(dirname(require.resolve('btrfs-to-s3/package.json')), 'bin', 'run.js');

/** Relative path to SHA-256 of every regular file under `root`, read here, apart from the code under test. */
async function fileHashes(root: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const path of (await readdir(root, { recursive: true })).sort()) {
    if ((await lstat(join(root, path))).isFile()) hashes[path] = sha256(await readFile(join(root, path)));
  }
  return hashes;
}

/** Runs `script` with the modules it loads written to a file; resolves with its result and that list. */
async function runReportingModules(
  script: string,
  args: readonly string[],
  scratch: string,
): Promise<{ result: CliResult; modules: string[] }> {
  const file = join(scratch, `${basename(script)}.modules.json`);
  const result = await runCliAsync(script, args, {
    ...gatewayEnv(),
    NODE_OPTIONS: `--require ${REPORT_LOADED_MODULES}`,
    LOADED_MODULES_FILE: file,
  });
  const modules: unknown = JSON.parse(await readFile(file, 'utf8'));
  if (!Array.isArray(modules) || !modules.every((path) => typeof path === 'string')) throw new Error(`${file} is not a list of paths`);
  return { result, modules };
}

function expectSuccess(result: CliResult): void {
  if (result.code !== 0) throw new Error(`exited ${result.code ?? result.signal}: ${result.stderr}`);
}

describe('the library examples, as plain Node scripts on real Btrfs and the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  /** Removes everything the test left under `prefix/`: open multipart uploads, then objects. */
  async function deletePrefix(prefix: string): Promise<void> {
    const uploads = await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: `${prefix}/` }));
    for (const upload of uploads.Uploads ?? []) {
      await bucket.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key: upload.Key, UploadId: upload.UploadId }));
    }
    const keys = await bucket.keys(`${prefix}/`);
    for (let start = 0; start < keys.length; start += 1000) {
      const objects = keys.slice(start, start + 1000).map((key) => ({ Key: key }));
      await bucket.client.send(new DeleteObjectsCommand({ Bucket: bucket.name, Delete: { Objects: objects, Quiet: true } }));
    }
  }

  it('backs up and restores with the packages alone: the same bytes, current.json published, and no oclif module loaded', async () => {
    const prefix = uniquePrefix('library-example');
    const scratch = await mkdtemp(join(tmpdir(), 'library-example-'));
    try {
      await withLoopBtrfs(async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        await btrfs.createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 4, 5 * MiB);
        await writeRandomFiles(join(mnt, 'data', 'nested'), 3, 100_000, 'small');
        const config = backupConfig(mnt, prefix, ['data']);
        const target = join(mnt, 'restored');

        try {
          const { result, modules } = await runReportingModules(BACKUP_AND_RESTORE, [config, 'data', target], scratch);
          expectSuccess(result);

          expect(await bucket.keys(`${prefix}/`)).toContain(`${prefix}/subvol/data/current.json`);
          const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { manifest_key: string };
          expect(result.stdout).toMatch(
            new RegExp(`^backed up data: ${pointer.manifest_key} \\(full, \\d+ bytes in 2 chunk\\(s\\)\\)$`, 'm'),
          );
          const restored = /^restored (\S+): (\d+) bytes, Received UUID (\S+)$/m.exec(result.stdout);
          const [, snapshotPath = '', , receivedUuid] = restored ?? [];
          expect(dirname(snapshotPath)).toBe(target);
          // The restored snapshot came from the one backed up, and holds the same bytes as the source.
          const source = await btrfs.showSubvolume(join(mnt, 'snapshots', basename(snapshotPath)));
          expect(await btrfs.showSubvolume(snapshotPath)).toMatchObject({ readOnly: true, receivedUuid: source.uuid });
          expect(receivedUuid).toBe(source.uuid);
          const hashes = await fileHashes(join(mnt, 'data'));
          expect(Object.keys(hashes)).toHaveLength(7);
          expect(await fileHashes(snapshotPath)).toEqual(hashes);

          // The reporter saw the packages themselves, so an empty or broken list cannot pass.
          expect(modules).toEqual(
            expect.arrayContaining([
              await realpath(require.resolve('@org/btrfs-s3-backup')),
              await realpath(require.resolve('@org/btrfs-s3-restore')),
            ]),
          );
          expect(modules.filter((path) => path.includes('@oclif'))).toEqual([]);
        } finally {
          await rm(dirname(config), { recursive: true, force: true });
        }
      });
    } finally {
      await deletePrefix(prefix);
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('the module report finds oclif when the CLI runs, so its absence above means something', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'library-example-'));
    try {
      const { result, modules } = await runReportingModules(CLI_BIN, ['--version'], scratch);
      expectSuccess(result);
      expect(modules.some((path) => path.includes('/@oclif/core/'))).toBe(true);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('list-and-verify prints an intact backup one line per subvolume, then exits 1 naming a chunk deleted from the bucket', async () => {
    const prefix = uniquePrefix('library-verify');
    try {
      await withLoopBtrfs(async (mnt) => {
        await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 4, 5 * MiB);
        const config = backupConfig(mnt, prefix, ['data']);
        try {
          await runBackup({ config: await loadConfig(config, {}), once: true });
          const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { manifest_key: string };

          const intact = await runCliAsync(LIST_AND_VERIFY, [config], gatewayEnv());
          expectSuccess(intact);
          expect(intact.stdout).toBe(`data: current ${pointer.manifest_key}, 1 backup(s); intact: 2 of 2 chunks re-hashed\n`);

          const manifest = (await bucket.json(pointer.manifest_key)) as { chunks: { key: string; size: number }[] };
          const victim = manifest.chunks[1];
          if (victim === undefined) throw new Error(`${pointer.manifest_key} has fewer than 2 chunks`);
          await bucket.client.send(new DeleteObjectsCommand({ Bucket: bucket.name, Delete: { Objects: [{ Key: victim.key }] } }));
          expect(await bucket.keys(`${prefix}/`)).not.toContain(victim.key);

          const damaged = await runCliAsync(LIST_AND_VERIFY, [config], gatewayEnv());
          expect(damaged.code).toBe(ExitCode.Fatal);
          expect(damaged.stderr).toContain(`data: MISSING ${victim.key}: expected ${victim.size} bytes, the object does not exist\n`);
          expect(damaged.stdout).toBe('');
        } finally {
          await rm(dirname(config), { recursive: true, force: true });
        }
      });
    } finally {
      await deletePrefix(prefix);
    }
  });
});
