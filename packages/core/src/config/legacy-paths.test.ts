import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../logging/logger';
import { parseConfig } from './load';
import { migrateLegacyStatePaths, withLegacyStatePaths } from './legacy-paths';

describe('state and metrics at an earlier release default path', () => {
  let root: string;
  let dirs: { stateDir: string; legacyDir: string };
  let log: PassThrough;
  let logger: Logger;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'legacy-paths-'));
    dirs = { stateDir: join(root, 'var-lib'), legacyDir: join(root, 'home', '.local', 'state', 'btrfs_to_s3') };
    mkdirSync(dirs.legacyDir, { recursive: true });
    writeFileSync(join(dirs.legacyDir, 'state.json'), '{"old": "state"}\n');
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
    expect(readFileSync(target, 'utf8')).toBe('{"old": "state"}\n');
    expect(String(log.read())).toMatch(/moved global\.state_path to today's default/);
    expect(migrated.global.metrics_path).toBe(join(dirs.stateDir, 'metrics.json')); // no old metrics: nothing to do

    // Today's file exists now: the old one is never read again.
    writeFileSync(join(dirs.legacyDir, 'state.json'), '{"stale": true}\n');
    expect((await withLegacyStatePaths(today, dirs)).global.state_path).toBe(target);
    await migrateLegacyStatePaths(today, logger, dirs);
    expect(readFileSync(target, 'utf8')).toBe('{"old": "state"}\n');
  });

  it("keeps the old path, and says why, where today's directory cannot be written", async () => {
    writeFileSync(dirs.stateDir, 'a file where the directory should be');
    const migrated = await migrateLegacyStatePaths(config(dirs.stateDir), logger, dirs);
    expect(migrated.global.state_path).toBe(join(dirs.legacyDir, 'state.json'));
    expect(String(log.read())).toMatch(/kept global\.state_path at .*run `btrfs-to-s3 systemd install` again/);
  });
});
