import { BtrfsToS3Error, errnoCode, ExitCode, type ProcessRunner } from '@org/btrfs-s3-core';
import { existsSync } from 'node:fs';
import { access, constants, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Btrfs } from '@org/btrfs-s3-btrfs';
import type { VerifyMode } from './verify';

/** A restore cannot succeed here; found before any thaw request or download, so nothing was spent or written. */
export class PreflightError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Usage });
  }
}

/** What the preflight found; a dry run reports it. */
export interface PreflightReport {
  /** The send streams' bytes summed over the chain: what `btrfs receive` writes, before compression or reflinks. */
  readonly neededBytes: number;
  /** Free bytes on the target's filesystem (for an unprivileged writer: statfs f_bavail). */
  readonly freeBytes: number;
  /** False when `skipSpaceCheck` waived the free-space rule. */
  readonly spaceChecked: boolean;
  /** The programs the restore will run, each found. */
  readonly tools: readonly string[];
}

/** What the preflight looks through: where the target's filesystem is, and the programs it must find. */
export interface PreflightDeps {
  readonly btrfs: Pick<Btrfs, 'isOnBtrfs'>;
  readonly runner: Pick<ProcessRunner, 'run'>;
  readonly signal: AbortSignal;
}

/** What the preflight reads of each backup: its stream's size, and where its source snapshot was (from the private section). */
export interface CheckedBackup {
  readonly manifest: { readonly total_bytes: number };
  readonly secret: { readonly snapshot_path: string };
}

/** The nearest existing directory at or above `path`: where the target will be made. */
function existingAncestor(path: string): string {
  let current = resolve(path);
  while (!existsSync(current) && current !== dirname(current)) current = dirname(current);
  return current;
}

const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

/**
 * Everything that would make the restore fail after money or hours were spent,
 * checked first: `btrfs` is installed, the target is on Btrfs and writable, its
 * filesystem has room for the chain's streams, and the tools the chosen
 * verification runs are installed. Each failure is a PreflightError (exit 2) saying
 * what to do.
 */
export async function preflight(
  context: PreflightDeps,
  chain: readonly CheckedBackup[],
  target: string,
  options: {
    readonly verify: VerifyMode;
    readonly skipSpaceCheck: boolean;
    /** How messages name the target (default `--target`; a drill's is `--scratch`). */
    readonly targetFlag?: string;
  },
): Promise<PreflightReport> {
  const flag = options.targetFlag ?? '--target';
  await requireTool(context, 'btrfs', 'btrfs receive needs it: install btrfs-progs (Debian: apt-get install btrfs-progs)');
  const tools = ['btrfs'];
  if (comparesTrees(options.verify, chain)) {
    await requireTool(
      context,
      'getfattr',
      `the tree comparison (--verify ${options.verify}) needs it: install attr (Debian: apt-get install attr), or pass --verify none`,
    );
    tools.push('getfattr');
  }

  const where = existingAncestor(target);
  if (!(await context.btrfs.isOnBtrfs(where))) {
    throw new PreflightError(
      `${flag} ${target} is not on a Btrfs filesystem; btrfs receive needs one: mkfs.btrfs a disk, mount it, and restore into a path on it`,
    );
  }
  try {
    await access(where, constants.W_OK);
  } catch (error) {
    throw new PreflightError(`${flag} ${target}: ${where} is not writable (${errnoCode(error) ?? String(error)})`);
  }

  const neededBytes = chain.reduce((sum, link) => sum + link.manifest.total_bytes, 0);
  const stats = await statfs(where);
  const freeBytes = stats.bavail * stats.bsize;
  if (!options.skipSpaceCheck && freeBytes < neededBytes) {
    throw new PreflightError(
      `${flag} ${target}: its filesystem has ${gib(freeBytes)} free and the chain's send streams are ${gib(neededBytes)}; free space or restore elsewhere (--skip-space-check restores anyway: compression and reflinks can make the real need smaller)`,
    );
  }
  return { neededBytes, freeBytes, spaceChecked: !options.skipSpaceCheck, tools };
}

/** The tree comparison runs when asked for and the backed-up snapshot is on this host. */
function comparesTrees(mode: VerifyMode, chain: readonly CheckedBackup[]): boolean {
  const last = chain[chain.length - 1];
  return mode !== 'none' && last !== undefined && existsSync(last.secret.snapshot_path);
}

async function requireTool(context: PreflightDeps, command: string, why: string): Promise<void> {
  try {
    await context.runner.run(command, ['--version'], { signal: context.signal });
  } catch (error) {
    context.signal.throwIfAborted();
    throw new PreflightError(`\`${command}\` cannot be run (${error instanceof Error ? error.message : String(error)}); ${why}`);
  }
}
