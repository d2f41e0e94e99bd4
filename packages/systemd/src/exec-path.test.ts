import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveExecPath } from './exec-path';

describe('resolveExecPath', () => {
  let dir: string;
  let binPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'exec-path-'));
    await mkdir(join(dir, 'lib', 'bin'), { recursive: true });
    binPath = join(dir, 'lib', 'bin', 'run.js');
    await writeFile(binPath, '#!/usr/bin/env node\n');
    await chmod(binPath, 0o755);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps the link the operator invoked, which survives an upgrade that moves the package', async () => {
    const link = join(dir, 'btrfs-to-s3');
    await symlink(binPath, link);
    await expect(resolveExecPath({ binPath, invokedAs: link })).resolves.toBe(link);
  });

  it('uses the entry script when the CLI was started some other way', async () => {
    await expect(resolveExecPath({ binPath })).resolves.toBe(binPath);
    await expect(resolveExecPath({ binPath, invokedAs: join(dir, 'elsewhere.js') })).resolves.toBe(binPath);
  });

  it('refuses an entry script systemd could not execute', async () => {
    await chmod(binPath, 0o644);
    // As root, access(X_OK) still needs one execute bit: the check holds for root too.
    await expect(resolveExecPath({ binPath })).rejects.toThrow(/is not executable; systemd could not start it/);
    await expect(resolveExecPath({ binPath: join(dir, 'missing.js') })).rejects.toThrow(/does not exist/);
  });
});
