import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderUnits } from './units';

const execFileAsync = promisify(execFile);

/** systemd-analyze exits 0 even on parse warnings, so its stderr is the verdict. */
async function verify(units: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'units-'));
  const paths = await Promise.all(
    Object.entries(units).map(async ([name, text]) => {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    }),
  );
  const { stderr } = await execFileAsync('systemd-analyze', ['verify', ...paths]);
  return stderr.trim();
}

describe('renderUnits', () => {
  it('renders a oneshot backup service with the install paths', () => {
    const units = renderUnits({ execPath: '/usr/local/bin/btrfs-to-s3', configPath: '/etc/b s3/config.toml' });
    expect(units['btrfs-to-s3.service']).toContain('Type=oneshot\n');
    expect(units['btrfs-to-s3.service']).toContain('ExecStart=/usr/local/bin/btrfs-to-s3 backup --config "/etc/b s3/config.toml"\n');
  });

  it('renders a persistent daily timer at run_at with a randomized delay', () => {
    const timer = renderUnits({ execPath: '/usr/bin/btrfs-to-s3', runAt: '03:30' })['btrfs-to-s3.timer'];
    expect(timer).toContain('OnCalendar=*-*-* 03:30:00\n');
    expect(timer).toContain('Persistent=true\n');
    expect(timer).toMatch(/RandomizedDelaySec=\d+/);
  });

  it('passes systemd-analyze verify without warnings', async () => {
    await expect(verify({ ...renderUnits({ execPath: process.execPath }) })).resolves.toBe('');
  });

  it('is checked strictly enough that a broken unit fails verification', async () => {
    const units = renderUnits({ execPath: process.execPath });
    const broken = { ...units, 'btrfs-to-s3.service': units['btrfs-to-s3.service'].replace('Type=oneshot', 'Type=oneshoot') };
    await expect(verify(broken)).resolves.toMatch(/Failed to parse service type/);
  });
});
