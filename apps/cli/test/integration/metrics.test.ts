import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import {
  backupConfig,
  gatewayEnv,
  MiB,
  startCli,
  startFaultProxy,
  testGateway,
  uniquePrefix,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BIN, cliAsync } from '../helpers';

/** The textfile's samples ("name{labels}" to value); empty while it does not exist. */
function samples(path: string): Map<string, number> {
  if (!existsSync(path)) return new Map();
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
  return new Map(lines.map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
}

/** `promtool check metrics` reads the file on stdin; it fails on a malformed exposition. */
async function promtoolCheck(path: string): Promise<void> {
  const child = execFile('promtool', ['check', 'metrics']);
  child.stdin?.end(readFileSync(path));
  const [code] = (await once(child, 'close')) as [number | null];
  expect(code).toBe(0);
}

/** Polls `condition` (the state it waits for), failing with `what` after `ms`: a bound with headroom, not a sleep. */
async function waitFor(what: string, condition: () => boolean, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A port nothing listens on: a store that is down. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const seconds = () => Math.floor(Date.now() / 1000);

describe('the backup textfile on real Btrfs and the real gateway', () => {
  it('records a run against a dead endpoint: its exit code, a fresh attempt, not in progress', async () => {
    await withLoopBtrfs(async (mnt) => {
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 1, MiB);
      const textfile = join(mnt, 'textfile', 'btrfs-to-s3.prom');
      const config = backupConfig(mnt, uniquePrefix('metrics-dead'), ['data'], {
        endpoint: `http://127.0.0.1:${await deadPort()}`,
        global: `prometheus_textfile = "${textfile}"`,
        s3: 'retry_attempts = 2\nretry_base_seconds = 0.1',
      });
      const before = seconds();

      const result = await cliAsync(['backup', '--config', config], gatewayEnv());

      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      const after = samples(textfile);
      expect(after.get('btrfs_to_s3_last_exit_code')).toBe(result.code);
      expect(after.get('btrfs_to_s3_last_attempt_timestamp_seconds')).toBeGreaterThanOrEqual(before);
      expect(after.get('btrfs_to_s3_run_in_progress')).toBe(0);
      await promtoolCheck(textfile);
    });
  });

  it('shows a run in progress while its upload is held, then its end; a SIGTERM run ends with 143', async () => {
    let release: () => void = () => undefined;
    let held = 0;
    const proxy = await startFaultProxy({
      upstream: testGateway().endpoint,
      faults: (request) => {
        if (request.method !== 'PUT' || !request.target.includes('partNumber=')) return undefined;
        held += 1;
        return held === 1 ? { holdResponseUntil: new Promise<void>((resolve) => (release = resolve)) } : undefined;
      },
    });
    try {
      await withLoopBtrfs(async (mnt) => {
        await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 2, 8 * MiB);
        const textfile = join(mnt, 'textfile', 'btrfs-to-s3.prom');
        const config = backupConfig(mnt, uniquePrefix('metrics-held'), ['data'], {
          endpoint: proxy.endpoint,
          global: `prometheus_textfile = "${textfile}"`,
        });
        const before = seconds();

        const backup = startCli(BIN, ['backup', '--config', config], gatewayEnv());
        await waitFor('the first part to be held', () => held > 0);
        const during = samples(textfile);
        release();
        const result = await backup.done;

        expect(during.get('btrfs_to_s3_run_in_progress')).toBe(1);
        expect(during.get('btrfs_to_s3_last_attempt_timestamp_seconds')).toBeGreaterThanOrEqual(before);
        expect(result.code).toBe(0);
        const after = samples(textfile);
        expect(after.get('btrfs_to_s3_run_in_progress')).toBe(0);
        expect(after.get('btrfs_to_s3_last_exit_code')).toBe(0);
        expect(after.get('btrfs_to_s3_last_run_success{subvolume="data",kind="full"}')).toBe(1);
        await promtoolCheck(textfile);

        // verify and its inventory write files of their own beside it, leaving the backup's alone.
        const backupText = readFileSync(textfile, 'utf8');
        expect((await cliAsync(['verify', '--config', config], gatewayEnv())).code).toBe(0);
        const verify = samples(textfile.replace(/\.prom$/, '-verify.prom'));
        expect(verify.get('btrfs_to_s3_last_verify_success{subvolume="data",reads="none"}')).toBe(1);
        const inventory = samples(textfile.replace(/\.prom$/, '-inventory.prom'));
        expect(inventory.get('btrfs_to_s3_stored_bytes{subvolume="data",storage_class="DEEP_ARCHIVE"}')).toBeGreaterThan(16 * MiB);
        expect(inventory.get('btrfs_to_s3_estimated_monthly_cost{storage_class="DEEP_ARCHIVE",currency="USD"}')).toBeGreaterThan(0);
        expect(readFileSync(textfile, 'utf8')).toBe(backupText);
        await promtoolCheck(textfile.replace(/\.prom$/, '-verify.prom'));
        await promtoolCheck(textfile.replace(/\.prom$/, '-inventory.prom'));

        held = 0;
        const stopped = startCli(BIN, ['backup', '--config', config, '--full', '--once'], gatewayEnv());
        await waitFor('the second run to hold a part', () => held > 0);
        expect(samples(textfile).get('btrfs_to_s3_run_in_progress')).toBe(1);
        stopped.child.kill('SIGTERM');
        const interrupted = await stopped.done;
        release();

        expect(interrupted.code).toBe(ExitCode.Terminated);
        const end = samples(textfile);
        expect(end.get('btrfs_to_s3_last_exit_code')).toBe(ExitCode.Terminated);
        expect(end.get('btrfs_to_s3_run_in_progress')).toBe(0);
        expect(end.get('btrfs_to_s3_last_run_success{subvolume="data",kind="full"}')).toBe(1); // the last good backup stands
      });
    } finally {
      release();
      await proxy.close();
    }
  });
});
