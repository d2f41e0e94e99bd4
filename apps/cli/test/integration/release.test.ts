import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { backupConfig, gatewayEnv, MiB, run, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const REPO = join(__dirname, '..', '..', '..', '..');
const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** Every node binary a PATH lookup could find here, resolved: the release must use none of them. */
function hostNodes(): string[] {
  const found = spawnSync('sh', ['-c', 'which -a node nodejs || true'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return [...new Set(found.map((path) => realpathSync(path)))];
}

/**
 * Runs `argv` with the host's Node hidden (an empty file bound over each binary, in a
 * mount namespace of its own) and the checkout under an empty tmpfs, as on a host that
 * never had Node or the sources.
 */
function withoutHostNode(cwd: string, argv: readonly string[], env: Record<string, string | undefined> = {}) {
  // The checkout too (its node_modules): the release must need nothing from it.
  const hide = [...hostNodes().map((path) => `mount --bind /dev/null '${path}'`), `mount -t tmpfs none '${REPO}'`];
  const script = [...hide, 'exec "$@"'].join('\n');
  const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...argv], {
    cwd,
    encoding: 'utf8',
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the release', () => {
  let unpacked: string;
  let deb: string;
  beforeAll(async () => {
    // Built already (the test command builds first); a rebuild here would rewrite dist/ under other suites.
    await run('bash', [join(REPO, 'scripts', 'release.sh'), '--no-build']);
    const dir = await mkdtemp(join(tmpdir(), 'release-'));
    await run('tar', ['-xzf', join(REPO, 'release', `btrfs-to-s3-${VERSION}-linux-x64.tar.gz`), '-C', dir]);
    unpacked = join(dir, `btrfs-to-s3-${VERSION}-linux-x64`);
    deb = join(REPO, 'release', `btrfs-to-s3_${VERSION}_amd64.deb`);
  }, 600_000);
  afterAll(async () => {
    if (unpacked !== undefined) await rm(join(unpacked, '..'), { recursive: true, force: true });
  });

  it('runs unpacked with no Node on the host: --version names its own Node 22 or later, and backup --help works', () => {
    expect(hostNodes().length).toBeGreaterThan(0);
    expect(withoutHostNode(unpacked, ['sh', '-c', 'node --version']).code).not.toBe(0);
    expect(withoutHostNode(unpacked, ['ls', '-A', REPO])).toMatchObject({ code: 0, stdout: '' });

    const version = withoutHostNode(unpacked, ['./bin/btrfs-to-s3', '--version']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    const major = Number(/node-v(\d+)\./.exec(version.stdout)?.[1]);
    expect(version.stdout).toContain(`btrfs-to-s3/${VERSION}`);
    expect(major).toBeGreaterThanOrEqual(22);

    const help = withoutHostNode(unpacked, ['./bin/btrfs-to-s3', 'backup', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Snapshot the configured subvolumes');
  });

  it("starts its Node with the memory settings the backup's bound relies on, leaving a caller's malloc settings alone", async () => {
    const probe = join(unpacked, '..', 'memory-settings.cjs');
    await writeFile(
      probe,
      'const e = process.env; console.log(JSON.stringify([process.execArgv, e.MALLOC_MMAP_THRESHOLD_, e.MALLOC_TRIM_THRESHOLD_])); process.exit(0);\n',
    );
    const started = (env: Record<string, string>) =>
      spawnSync(join(unpacked, 'bin', 'btrfs-to-s3'), ['--version'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, NODE_OPTIONS: `--require ${probe}`, ...env },
      });

    expect(JSON.parse(started({}).stdout)).toEqual([['--max-semi-space-size=1'], '131072', '131072']);
    expect(JSON.parse(started({ MALLOC_MMAP_THRESHOLD_: '65536' }).stdout)).toEqual([['--max-semi-space-size=1'], '65536', '131072']);
  });

  it('carries its plugins: the systemd commands and shell completion run from node_modules/', async () => {
    const cache = join(unpacked, '..', 'cache');
    const completion = withoutHostNode(unpacked, ['./bin/btrfs-to-s3', 'autocomplete', 'bash'], { XDG_CACHE_HOME: cache });
    expect(completion).toMatchObject({ code: 0 });
    const script = await readFile(join(cache, 'btrfs-to-s3', 'autocomplete', 'functions', 'bash', 'btrfs-to-s3.bash'), 'utf8');
    expect(script).toMatch(/^systemd:install --json/m); // a plugin's command, listed by another plugin
    expect(script).toMatch(/^doctor --json/m);
    for (const plugin of ['@org/btrfs-s3-plugin-systemd', '@oclif/plugin-autocomplete'])
      expect(existsSync(join(unpacked, 'node_modules', plugin, 'oclif.manifest.json'))).toBe(true);
  });

  it('answers --help, --version and a topic from oclif.manifest.json, without loading the commands (lib/cli.js)', async () => {
    const commands = join(unpacked, 'lib', 'cli.js');
    await rename(commands, `${commands}.away`);
    try {
      const help = withoutHostNode(unpacked, ['./bin/btrfs-to-s3', 'backup', '--help']);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toContain('--take-over');
      expect(withoutHostNode(unpacked, ['./bin/btrfs-to-s3', '--version'])).toMatchObject({ code: 0, stderr: '' });
      expect(withoutHostNode(unpacked, ['./bin/btrfs-to-s3', 'systemd']).stdout).toContain('systemd install');
      // Running a command needs them: proof that the runs above did without.
      expect(withoutHostNode(unpacked, ['./bin/btrfs-to-s3', 'config', 'init', '--print']).code).not.toBe(0);
    } finally {
      await rename(`${commands}.away`, commands);
    }
  });

  describe('the code cache (docs/release.md, "The code cache")', () => {
    const debugEnv = { NODE_DEBUG: 'btrfs-to-s3-cache' };
    const run = (...args: string[]) => withoutHostNode(unpacked, ['./bin/btrfs-to-s3', ...args], debugEnv);
    /** As root, the caches are in /var/cache, per Node version, named by the bundle's CRC-32. */
    async function cacheFile(bundle: string, command?: string): Promise<string> {
      const nodeVersion = withoutHostNode(unpacked, ['./node/bin/node', '--version']).stdout.trim();
      const crc = crc32(await readFile(join(unpacked, 'lib', bundle))).toString(16);
      return join('/var/cache/btrfs-to-s3/compile-cache', nodeVersion, `${bundle}-${crc}${command === undefined ? '' : `-${command}`}.v8`);
    }

    it('keeps what a run compiled, which the next run uses; lib/cli.js once per command', async () => {
      await rm(await cacheFile('cli.js', 'config.init'), { force: true });
      expect(run('config', 'init', '--print')).toMatchObject({
        code: 0,
        stderr: expect.stringContaining('cli.js for config:init: no cache'),
      });
      const second = run('config', 'init', '--print');
      expect(second.code).toBe(0);
      expect(second.stderr).toContain('oclif.js: cache accepted');
      expect(second.stderr).toContain('cli.js for config:init: cache accepted');
      expect(second.stderr).not.toContain('written');
      const other = run('config', 'validate', '--config', 'share/examples/config.toml');
      expect(other.stderr).toMatch(/cli\.js for config:validate: (no cache|cache accepted)/);
    });

    it("removes an earlier build's caches of a bundle when it writes one", async () => {
      const current = await cacheFile('cli.js', 'config.init');
      const earlier = join(current, '..', 'cli.js-deadbeef-config.init.v8');
      const otherBundle = join(current, '..', 'oclif.js-deadbeef.v8');
      await writeFile(earlier, 'an earlier release');
      await writeFile(otherBundle, 'an earlier release');
      await rm(current, { force: true });
      expect(run('config', 'init', '--print').stderr).toContain('cli.js for config:init: cache written');
      expect(existsSync(earlier)).toBe(false);
      expect(existsSync(current)).toBe(true);
      expect(existsSync(otherBundle)).toBe(true); // another bundle's: left to oclif.js's own writes
      await rm(otherBundle, { force: true });
    });

    it("adds to oclif's cache what the first run of the other kind compiles (a command; help or --version)", async () => {
      await rm(await cacheFile('oclif.js'), { force: true });
      expect(run('config', 'init', '--print').stderr).toContain('oclif.js: cache written');
      const help = run('backup', '--help');
      expect(help.stderr).toContain('oclif.js: cache accepted');
      expect(help.stderr).toContain('oclif.js: cache written');
      expect(run('backup', '--help').stderr).not.toContain('written');
      expect(run('config', 'init', '--print').stderr).not.toContain('written');
    });

    it('makes a damaged cache again', async () => {
      run('config', 'init', '--print');
      const file = await cacheFile('oclif.js');
      const cache = await readFile(file);
      cache.writeUInt8(cache.readUInt8(cache.length - 1) ^ 0xff, cache.length - 1); // one byte of the code, flipped
      await writeFile(file, cache);
      const damaged = run('config', 'init', '--print');
      expect(damaged.code).toBe(0);
      expect(damaged.stderr).toContain('oclif.js: cache damaged');
      expect(run('config', 'init', '--print').stderr).toContain('oclif.js: cache accepted');
    });
  });

  it('renders systemd units for the link it was started by, so the timer survives an upgrade that moves the link', async () => {
    const link = join(unpacked, '..', 'btrfs-to-s3');
    await symlink(join(unpacked, 'bin', 'btrfs-to-s3'), link);
    const shown = withoutHostNode('/', [link, 'systemd', 'show', '--config', join(unpacked, 'share', 'examples', 'config.toml')]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`ExecStart=${link} backup --config ${join(unpacked, 'share', 'examples', 'config.toml')}`);
  });

  it('backs up and restores, verified, against the gateway, with no Node on the host and no checkout in reach', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 3, MiB);
      const config = backupConfig(mnt, uniquePrefix('release'), ['data']);
      const bin = join(unpacked, 'bin', 'btrfs-to-s3');

      const backup = withoutHostNode('/', [bin, 'backup', '--config', config], gatewayEnv());
      expect({ code: backup.code, stderr: backup.stderr }).toMatchObject({ code: 0 });

      const target = join(mnt, 'restored');
      const restore = withoutHostNode(
        '/',
        [bin, 'restore', '--config', config, '--subvolume', 'data', '--target', target, '--verify', 'full'],
        gatewayEnv(),
      );
      expect({ code: restore.code, stderr: restore.stderr }).toMatchObject({ code: 0 });
      const [received] = await readdir(target);
      await run('diff', ['-r', join(mnt, 'data'), join(target, received ?? '')]);
    });
  });

  it('packs a .deb that installs the tree in /opt/btrfs-to-s3, /usr/bin/btrfs-to-s3, and depends on the programs it runs', async () => {
    expect(existsSync(deb)).toBe(true);
    const control = await run('dpkg-deb', ['--field', deb, 'Package', 'Version', 'Architecture', 'Depends']);
    expect(control).toContain(`Version: ${VERSION}`);
    expect(control).toContain('Architecture: amd64');
    expect(control).toMatch(/Depends: .*btrfs-progs/);
    expect(control).toMatch(/Depends: .*attr/);
    const contents = await run('dpkg-deb', ['--contents', deb]);
    expect(contents).toMatch(/-rwxr-xr-x root\/root .* \.\/opt\/btrfs-to-s3\/bin\/btrfs-to-s3\n/);
    expect(contents).toMatch(/\.\/opt\/btrfs-to-s3\/node\/bin\/node\n/);
    expect(contents).toContain('./usr/bin/btrfs-to-s3 -> /opt/btrfs-to-s3/bin/btrfs-to-s3');
    expect(contents).toMatch(/\.\/opt\/btrfs-to-s3\/share\/systemd\/btrfs-to-s3\.timer\n/);
  });
});
