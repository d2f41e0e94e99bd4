import { errnoCode, type ProcessRunner, writeFileAtomic } from '@org/btrfs-s3-core';
import { mkdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SystemdError } from './errors';
import { DRILL_SERVICE_NAME, DRILL_TIMER_NAME, SERVICE_NAME, TIMER_NAME, type UnitFiles } from './units';

/** One step of an install or uninstall; a dry run prints them, a real run performs them in order. */
export type UnitAction =
  | { readonly action: 'create-directory'; readonly path: string }
  | { readonly action: 'write-file'; readonly path: string; readonly content: string }
  | { readonly action: 'remove-file'; readonly path: string }
  | { readonly action: 'run'; readonly command: readonly string[] };

/** Only `run` is used: systemctl's output is small and nothing is streamed. */
export type CommandRunner = Pick<ProcessRunner, 'run'>;

/** What `planInstall` installs, and where. */
export interface InstallPlanOptions {
  /** Where the unit files go (default /etc/systemd/system). */
  readonly unitDir: string;
  /** The files to write there: the backup units, and the drill units if given. */
  readonly units: UnitFiles;
  /**
   * Directories the service writes. Under ProtectSystem=strict it cannot create a
   * missing one (its parent is read-only), so the install does.
   */
  readonly directories: readonly string[];
  /** Reload systemd and enable and start the timer (and the drill timer, if given); otherwise only the files change. */
  readonly enable: boolean;
}

/** What `planUninstall` removes from. */
export interface UninstallPlanOptions {
  /** Where the unit files are. */
  readonly unitDir: string;
  /** Stop and disable the timers and reload systemd; otherwise only the files go. */
  readonly enable: boolean;
}

/** Makes systemd read changed unit files. */
export const DAEMON_RELOAD = ['systemctl', 'daemon-reload'] as const;
/** Enables the timer at boot and starts it now (it does not start a backup now). */
export const ENABLE_TIMER = ['systemctl', 'enable', '--now', TIMER_NAME] as const;
/** Stops the timer and removes it from boot; a backup already running finishes. */
export const DISABLE_TIMER = ['systemctl', 'disable', '--now', TIMER_NAME] as const;
/** Enables the drill timer at boot and starts it now (it does not start a drill now). */
export const ENABLE_DRILL_TIMER = ['systemctl', 'enable', '--now', DRILL_TIMER_NAME] as const;
/** Stops the drill timer and removes it from boot; a drill already running finishes. */
export const DISABLE_DRILL_TIMER = ['systemctl', 'disable', '--now', DRILL_TIMER_NAME] as const;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw new SystemdError(`cannot check ${path}: ${errnoCode(error) ?? String(error)}`, error);
  }
}

/** The steps of an install: missing directories, the unit files, then (with `enable`) the systemctl calls. */
export async function planInstall(options: InstallPlanOptions): Promise<UnitAction[]> {
  const actions: UnitAction[] = [];
  for (const path of options.directories) if (!(await exists(path))) actions.push({ action: 'create-directory', path });
  for (const [name, content] of Object.entries(options.units)) {
    if (content !== undefined) actions.push({ action: 'write-file', path: join(options.unitDir, name), content });
  }
  if (options.enable) {
    actions.push({ action: 'run', command: DAEMON_RELOAD }, { action: 'run', command: ENABLE_TIMER });
    if (options.units[DRILL_TIMER_NAME] !== undefined) actions.push({ action: 'run', command: ENABLE_DRILL_TIMER });
  }
  return actions;
}

/**
 * The backup units and, when they are there, the drill units. Only what is there:
 * uninstalling twice, or after a manual cleanup, succeeds and changes nothing.
 */
export async function planUninstall(options: UninstallPlanOptions): Promise<UnitAction[]> {
  const timer = join(options.unitDir, TIMER_NAME);
  const drillTimer = join(options.unitDir, DRILL_TIMER_NAME);
  const present: string[] = [];
  const files = [timer, join(options.unitDir, SERVICE_NAME), drillTimer, join(options.unitDir, DRILL_SERVICE_NAME)];
  for (const path of files) if (await exists(path)) present.push(path);
  if (present.length === 0) return [];
  const actions: UnitAction[] = [];
  // Disabled first, while systemd still has the unit file to read its [Install] section from.
  if (options.enable && present.includes(timer)) actions.push({ action: 'run', command: DISABLE_TIMER });
  if (options.enable && present.includes(drillTimer)) actions.push({ action: 'run', command: DISABLE_DRILL_TIMER });
  for (const path of present) actions.push({ action: 'remove-file', path });
  if (options.enable) actions.push({ action: 'run', command: DAEMON_RELOAD });
  return actions;
}

async function perform(action: UnitAction, runner: CommandRunner): Promise<void> {
  if (action.action === 'run') {
    const [command, ...args] = action.command;
    if (command === undefined) throw new SystemdError('empty command');
    try {
      await runner.run(command, args);
    } catch (error) {
      throw new SystemdError(error instanceof Error ? error.message : String(error), error);
    }
    return;
  }
  try {
    if (action.action === 'create-directory') await mkdir(action.path, { recursive: true, mode: 0o700 });
    // 0644: systemd reads units as root, but `systemctl cat` and friends run as anyone.
    else if (action.action === 'write-file') await writeFileAtomic(action.path, action.content, 0o644);
    else await unlink(action.path);
  } catch (error) {
    if (action.action === 'remove-file' && errnoCode(error) === 'ENOENT') return; // removed meanwhile: the goal holds
    throw new SystemdError(`cannot ${action.action.replace('-', ' ')} ${action.path}: ${errnoCode(error) ?? String(error)}`, error);
  }
}

/** Performs `actions` in order, stopping at the first failure; `done` hears of each finished one. */
export async function applyActions(
  actions: readonly UnitAction[],
  runner: CommandRunner,
  done: (action: UnitAction) => void = () => undefined,
): Promise<void> {
  for (const action of actions) {
    await perform(action, runner);
    done(action);
  }
}

/** Human lines for an action: done, or (dry run) to be done. Written files are shown in full. */
export function describeAction(action: UnitAction, options: { dryRun: boolean }): string {
  const verb = (done: string, planned: string) => (options.dryRun ? planned : done);
  switch (action.action) {
    case 'create-directory':
      return `${verb('created', 'would create')} directory ${action.path}`;
    case 'write-file':
      return options.dryRun ? `would write ${action.path}:\n${action.content}` : `wrote ${action.path}`;
    case 'remove-file':
      return `${verb('removed', 'would remove')} ${action.path}`;
    case 'run':
      return `${verb('ran', 'would run')}: ${action.command.join(' ')}`;
  }
}
