import { ExitCode } from '@org/btrfs-s3-core';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertRestoreTarget, RestoreTargetError } from './target';

describe('assertRestoreTarget', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'restore-target-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('accepts a new path whose parent exists', async () => {
    await expect(assertRestoreTarget(join(dir, 'new'))).resolves.toBeUndefined();
  });

  it('accepts an existing empty directory', async () => {
    await mkdir(join(dir, 'empty'));
    await expect(assertRestoreTarget(join(dir, 'empty'))).resolves.toBeUndefined();
  });

  it('refuses an existing non-empty directory', async () => {
    await mkdir(join(dir, 'full'));
    await writeFile(join(dir, 'full', 'file'), 'x');
    await expect(assertRestoreTarget(join(dir, 'full'))).rejects.toThrow(`--target ${join(dir, 'full')} exists and is not empty`);
  });

  it('refuses a file', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await expect(assertRestoreTarget(join(dir, 'file'))).rejects.toThrow('exists and is not a directory');
  });

  it('refuses a missing parent and a parent that is a file', async () => {
    await expect(assertRestoreTarget(join(dir, 'a', 'b'))).rejects.toThrow(`--target parent ${join(dir, 'a')} does not exist`);
    await writeFile(join(dir, 'file'), 'x');
    await expect(assertRestoreTarget(join(dir, 'file', 'b'))).rejects.toThrow(`--target parent ${join(dir, 'file')} is not a directory`);
  });

  it('refuses a relative path with the usage exit code', async () => {
    const attempt = assertRestoreTarget('relative/target');
    await expect(attempt).rejects.toThrow(RestoreTargetError);
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Usage });
  });
});
