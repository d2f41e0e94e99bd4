import { lstat, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../errors';
import { writeFileAtomic } from '../fs/atomic';
import type { Logger } from '../logging/logger';
import { readState } from '../state/store';
import { legacyStateDir, ROOT_STATE_DIR } from './default-paths';
import { commandFilePath } from './metrics-files';
import type { RemoteConfig } from './schema';

type PathKey = 'state_path' | 'metrics_path';

/** Where today's and the earlier default live; tests point both at temp directories. */
export interface LegacyPathOptions {
  /** Default ROOT_STATE_DIR. */
  readonly stateDir?: string;
  /** Default legacyStateDir(): root's `~/.local/state/btrfs_to_s3`, from the password database. */
  readonly legacyDir?: string;
  /** The owner a file there must have to be adopted; default this process's uid. */
  readonly uid?: number;
}

/** One file to bring over: today's path, the earlier release's, and what checks its content. */
interface LegacyFile {
  readonly key: PathKey;
  readonly path: string;
  readonly legacy: string;
  readonly check: (path: string) => Promise<unknown>;
}

const checkJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as unknown;

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    // ENOTDIR: a file where a directory of the path should be; nothing is there either.
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}

/**
 * A file at the earlier default this process may adopt: a regular file (not a link, not
 * a FIFO) that it owns. Root must not take in what another user put in a home directory.
 */
async function adoptable(path: string, uid: number | undefined): Promise<boolean> {
  try {
    const found = await lstat(path);
    return found.isFile() && (uid === undefined || found.uid === uid);
  } catch {
    return false;
  }
}

/**
 * The state, metrics and drill-record files an earlier release left at its default path,
 * for a config whose paths are today's root default (whether the keys are set to it or
 * left unset): only where today's file does not exist yet and an adoptable old one does.
 */
async function legacyFiles(config: RemoteConfig, options: LegacyPathOptions): Promise<LegacyFile[]> {
  const stateDir = options.stateDir ?? ROOT_STATE_DIR;
  const legacyDir = options.legacyDir ?? legacyStateDir();
  const uid = options.uid ?? process.geteuid?.();
  const candidates: LegacyFile[] = [];
  const { state_path: state, metrics_path: metrics } = config.global;
  if (dirname(state) === stateDir)
    candidates.push({ key: 'state_path', path: state, legacy: join(legacyDir, basename(state)), check: readState });
  if (dirname(metrics) === stateDir) {
    const legacy = join(legacyDir, basename(metrics));
    candidates.push({ key: 'metrics_path', path: metrics, legacy, check: checkJson });
    candidates.push({
      key: 'metrics_path',
      path: commandFilePath(metrics, 'drill'),
      legacy: commandFilePath(legacy, 'drill'),
      check: checkJson,
    });
  }
  const found: LegacyFile[] = [];
  for (const file of candidates) {
    if (file.legacy !== file.path && !(await exists(file.path)) && (await adoptable(file.legacy, uid))) found.push(file);
  }
  return found;
}

/**
 * For commands that only read state (`status`, `plan`): the config with the state and
 * metrics paths pointed at an earlier release's files where today's do not exist yet,
 * so an upgrade shows the last runs before the first backup has moved them.
 */
export async function withLegacyStatePaths<C extends RemoteConfig>(config: C, options: LegacyPathOptions = {}): Promise<C> {
  const found = (await legacyFiles(config, options)).filter((file) => file.path === config.global[file.key]);
  if (found.length === 0) return config;
  const global = { ...config.global };
  for (const { key, legacy } of found) global[key] = legacy;
  return { ...config, global };
}

/**
 * For a backup (under its lock) or a drill: copies an earlier release's state, metrics and
 * drill record from their old default path (root's `~/.local/state/btrfs_to_s3`) to
 * today's (`/var/lib/btrfs-to-s3`), so an upgrade keeps its chains (never a surprise full)
 * and its drill history. Each is read and checked, then written atomically and durably;
 * the old files stay (the service sees the home directory read-only) and are no longer
 * read. A file that cannot be written there (units rendered by the earlier release do not
 * grant the directory) keeps its key at the old path, with a warning to install the units
 * again; one whose content does not check out is left, with a warning, and not adopted.
 */
export async function migrateLegacyStatePaths<C extends RemoteConfig>(
  config: C,
  logger: Logger,
  options: LegacyPathOptions = {},
): Promise<C> {
  const found = await legacyFiles(config, options);
  if (found.length === 0) return config;
  const global = { ...config.global };
  for (const { key, path, legacy, check } of found) {
    try {
      await check(legacy);
    } catch (error) {
      logger.warn(`left ${legacy} (an earlier release's default for global.${key}) where it is: ${messageOf(error)}`);
      continue;
    }
    try {
      await writeFileAtomic(path, await readFile(legacy, 'utf8'));
      logger.info(`moved ${basename(legacy)} to today's default ${path} (from ${legacy}, which is no longer read and can be deleted)`);
    } catch (error) {
      global[key] = join(dirname(legacy), basename(config.global[key]));
      logger.warn(
        `kept global.${key} at ${global[key]}: cannot write today's default ${path} (${errnoCode(error) ?? messageOf(error)}); run \`btrfs-to-s3 systemd install\` again so the service may write ${dirname(path)}, or set global.${key}`,
      );
    }
  }
  return { ...config, global };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
