import { copyFile, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../errors';
import type { Logger } from '../logging/logger';
import { legacyStateDir, ROOT_STATE_DIR } from './default-paths';
import type { RemoteConfig } from './schema';

type PathKey = 'state_path' | 'metrics_path';

/** Where today's and the earlier default live; tests point both at temp directories. */
export interface LegacyPathOptions {
  /** Default ROOT_STATE_DIR. */
  readonly stateDir?: string;
  /** Default legacyStateDir(): root's `~/.local/state/btrfs_to_s3`. */
  readonly legacyDir?: string;
}
const KEYS: readonly PathKey[] = ['state_path', 'metrics_path'];

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    // ENOTDIR: a file where a directory of the path should be; nothing is there either.
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}

/**
 * The state and metrics files an earlier release left at its default path: only for a
 * config that uses today's root default (the key unset), only where today's file does
 * not exist yet and the old one does.
 */
async function legacyFiles(config: RemoteConfig, options: LegacyPathOptions): Promise<{ key: PathKey; path: string; legacy: string }[]> {
  const found: { key: PathKey; path: string; legacy: string }[] = [];
  for (const key of KEYS) {
    const path = config.global[key];
    if (dirname(path) !== (options.stateDir ?? ROOT_STATE_DIR)) continue;
    const legacy = join(options.legacyDir ?? legacyStateDir(), basename(path));
    if (legacy !== path && !(await exists(path)) && (await exists(legacy))) found.push({ key, path, legacy });
  }
  return found;
}

/**
 * For commands that only read state (`status`, `plan`): the config with the state and
 * metrics paths pointed at an earlier release's files where today's do not exist yet,
 * so an upgrade shows the last runs before the first backup has moved them.
 */
export async function withLegacyStatePaths<C extends RemoteConfig>(config: C, options: LegacyPathOptions = {}): Promise<C> {
  const found = await legacyFiles(config, options);
  if (found.length === 0) return config;
  const global = { ...config.global };
  for (const { key, legacy } of found) global[key] = legacy;
  return { ...config, global };
}

/**
 * For a backup, under its lock: copies an earlier release's state and metrics files from
 * their old default path (root's `~/.local/state/btrfs_to_s3`) to today's
 * (`/var/lib/btrfs-to-s3`), so an upgrade keeps its chains (never a surprise full). The
 * old files stay (the service sees the home directory read-only); they are no longer
 * read. Where today's directory cannot be written (units rendered by the earlier release
 * do not grant it), the run keeps the old path, says so, and asks for `systemd install`.
 */
export async function migrateLegacyStatePaths<C extends RemoteConfig>(
  config: C,
  logger: Logger,
  options: LegacyPathOptions = {},
): Promise<C> {
  const found = await legacyFiles(config, options);
  if (found.length === 0) return config;
  const global = { ...config.global };
  for (const { key, path, legacy } of found) {
    try {
      await copyInto(legacy, path);
      logger.info(`moved global.${key} to today's default ${path} (from ${legacy}, which is no longer read and can be deleted)`);
    } catch (error) {
      global[key] = legacy;
      logger.warn(
        `kept global.${key} at ${legacy}: cannot write today's default ${path} (${errnoCode(error) ?? String(error)}); run \`btrfs-to-s3 systemd install\` again so the service may write ${dirname(path)}, or set global.${key}`,
      );
    }
  }
  return { ...config, global };
}

/** A copy that appears whole or not at all: the temp file is renamed into place. */
async function copyInto(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const temp = `${target}.${process.pid}.migrating`;
  try {
    await copyFile(source, temp);
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
