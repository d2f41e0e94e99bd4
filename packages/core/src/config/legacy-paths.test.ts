import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../logging/logger';
import { emptyState } from '../state/schema';
import { parseConfig } from './load';
import { migrateLegacyStatePaths, withLegacyStatePaths } from './legacy-paths';

/** A state file as an earlier release wrote it: valid, with one subvolume's last backup. */
const OLD_STATE = `${JSON.stringify({ ...emptyState(), last_run_at: '2026-12-01T02:00:00.000Z' })}\n`;

describe('state and metrics at an earlier release default path', () => {
  let root: string;
  let dirs: { stateDir: string; legacyDir: string };
  let log: PassThrough;
  let logger: Logger;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'legacy-paths-'));
    dirs = { stateDir: join(root, 'var-lib'), legacyDir: join(root, 'home', '.local', 'state', 'btrfs_to_s3') };
    mkdirSync(dirs.legacyDir, { recursive: true });
    writeFileSync(join(dirs.legacyDir, 'state.json'), OLD_STATE);
    log = new PassThrough();
    logger = createLogger({ level: 'info', format: 'json', stream: log });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const config = (stateDir: string) =>
    parseConfig(`
[global]
state_path = "${stateDir}/state.json"
metrics_path = "${stateDir}/metrics.json"
[snapshots]
base_dir = "/srv/snapshots"
[subvolumes]
paths = ["/srv/data"]
[s3]
bucket = "backups"
region = "eu-west-1"
prefix = "host1"
`);

  it('leaves a config alone whose paths are not the default', async () => {
    const custom = config(join(root, 'custom'));
    await expect(migrateLegacyStatePaths(custom, logger, dirs)).resolves.toBe(custom);
    await expect(withLegacyStatePaths(custom, dirs)).resolves.toBe(custom);
  });

  it("reads the old file, then a backup copies it to today's default, once", async () => {
    const today = config(dirs.stateDir);
    const target = join(dirs.stateDir, 'state.json');
    expect((await withLegacyStatePaths(today, dirs)).global.state_path).toBe(join(dirs.legacyDir, 'state.json'));

    const migrated = await migrateLegacyStatePaths(today, logger, dirs);
    expect(migrated.global.state_path).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe(OLD_STATE);
    expect(String(log.read())).toMatch(/moved state\.json to today's default/);
    expect(migrated.global.metrics_path).toBe(join(dirs.stateDir, 'metrics.json')); // no old metrics: nothing to do

    // Today's file exists now: the old one is never read again.
    writeFileSync(join(dirs.legacyDir, 'state.json'), '{"stale": true}\n');
    expect((await withLegacyStatePaths(today, dirs)).global.state_path).toBe(target);
    await migrateLegacyStatePaths(today, logger, dirs);
    expect(readFileSync(target, 'utf8')).toBe(OLD_STATE);
  });

  it("brings the drill's record along with the metrics", async () => {
    writeFileSync(join(dirs.legacyDir, 'metrics.json'), '{"outcomes": []}\n');
    writeFileSync(join(dirs.legacyDir, 'metrics-drill.json'), '[{"subvolume": "data"}]\n');
    await migrateLegacyStatePaths(config(dirs.stateDir), logger, dirs);
    expect(readFileSync(join(dirs.stateDir, 'metrics-drill.json'), 'utf8')).toBe('[{"subvolume": "data"}]\n');
    expect(readFileSync(join(dirs.stateDir, 'metrics.json'), 'utf8')).toBe('{"outcomes": []}\n');
  });

  it('adopts neither a file another user owns, nor a symbolic link, nor a state that does not parse', async () => {
    const today = config(dirs.stateDir);
    chownSync(join(dirs.legacyDir, 'state.json'), 65534, 65534);
    symlinkSync('/etc/hostname', join(dirs.legacyDir, 'metrics.json'));
    expect(await migrateLegacyStatePaths(today, logger, dirs)).toBe(today);
    expect(existsSync(join(dirs.stateDir, 'state.json'))).toBe(false);

    writeFileSync(join(dirs.legacyDir, 'state.json'), '{"not": "a state"}\n');
    chownSync(join(dirs.legacyDir, 'state.json'), 0, 0);
    const kept = await migrateLegacyStatePaths(today, logger, dirs);
    expect(kept.global.state_path).toBe(join(dirs.stateDir, 'state.json'));
    expect(existsSync(join(dirs.stateDir, 'state.json'))).toBe(false);
    expect(String(log.read())).toMatch(/left .*state\.json .* where it is/);
  });

  it("keeps the old path, and says why, where today's directory cannot be written", async () => {
    writeFileSync(dirs.stateDir, 'a file where the directory should be');
    const migrated = await migrateLegacyStatePaths(config(dirs.stateDir), logger, dirs);
    expect(migrated.global.state_path).toBe(join(dirs.legacyDir, 'state.json'));
    expect(String(log.read())).toMatch(/kept global\.state_path at .*run `btrfs-to-s3 systemd install` again/);
  });
});
