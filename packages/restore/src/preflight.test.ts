import { ExitCode } from '@org/btrfs-s3-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CheckedBackup, preflight, PreflightError, type PreflightDeps } from './preflight';

/** A chain of one backup whose stream is `bytes` long and whose source snapshot is at `snapshotPath`. */
function chainOf(bytes: number, snapshotPath = '/nonexistent/snapshot'): CheckedBackup[] {
  return [{ manifest: { total_bytes: bytes }, secret: { snapshot_path: snapshotPath } }];
}

describe('preflight', () => {
  let dir: string;
  let ran: string[];
  let missing: string[];
  let onBtrfs: boolean;
  const deps = (): PreflightDeps => ({
    btrfs: { isOnBtrfs: async () => onBtrfs },
    runner: {
      run: async (command) => {
        ran.push(command);
        if (missing.includes(command)) throw new Error(`spawn ${command} ENOENT`);
        return { stdout: `${command} 1.0\n`, stderr: '' };
      },
    },
    signal: new AbortController().signal,
  });
  const options = { verify: 'full' as const, skipSpaceCheck: false };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'preflight-'));
    ran = [];
    missing = [];
    onBtrfs = true;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = async (run: Promise<unknown>) => {
    const error: unknown = await run.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    if (!(error instanceof PreflightError)) throw new Error(`expected a PreflightError, got ${String(error)}`);
    expect(error.exitCode).toBe(ExitCode.Usage);
    return error.message;
  };

  it('passes a writable Btrfs target with room, reporting the space and the tools it found', async () => {
    const report = await preflight(deps(), chainOf(1000), join(dir, 'restored'), options);
    expect(report).toMatchObject({ neededBytes: 1000, spaceChecked: true, tools: ['btrfs'] });
    expect(report.freeBytes).toBeGreaterThan(1000);
  });

  it('refuses a target that is not on Btrfs, naming Btrfs', async () => {
    onBtrfs = false;
    expect(await refusal(preflight(deps(), chainOf(1000), join(dir, 'restored'), options))).toMatch(
      /is not on a Btrfs filesystem; btrfs receive needs one/,
    );
  });

  it("refuses a target whose filesystem has less room than the chain's streams, unless the space check is skipped", async () => {
    const huge = 1024 ** 5; // 1 PiB
    expect(await refusal(preflight(deps(), chainOf(huge), join(dir, 'restored'), options))).toMatch(
      /free and the chain's send streams are 1048576\.0 GiB; free space or restore elsewhere \(--skip-space-check/,
    );
    await expect(preflight(deps(), chainOf(huge), join(dir, 'restored'), { ...options, skipSpaceCheck: true })).resolves.toMatchObject({
      spaceChecked: false,
    });
  });

  it('refuses when btrfs-progs is not installed', async () => {
    missing = ['btrfs'];
    expect(await refusal(preflight(deps(), chainOf(1000), join(dir, 'restored'), options))).toMatch(
      /`btrfs` cannot be run .*install btrfs-progs/,
    );
  });

  it('requires getfattr only when the tree comparison will run: asked for, and the source snapshot is here', async () => {
    missing = ['getfattr'];
    await expect(preflight(deps(), chainOf(1000), join(dir, 'restored'), options)).resolves.toMatchObject({ tools: ['btrfs'] });
    await expect(preflight(deps(), chainOf(1000, dir), join(dir, 'restored'), { ...options, verify: 'none' })).resolves.toMatchObject({
      tools: ['btrfs'],
    });
    expect(await refusal(preflight(deps(), chainOf(1000, dir), join(dir, 'restored'), options))).toMatch(
      /`getfattr` cannot be run .*install attr .*or pass --verify none/,
    );
    expect(ran).toContain('getfattr');
  });
});
