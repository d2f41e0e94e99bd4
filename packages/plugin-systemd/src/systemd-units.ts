import type { Config, Logger } from '@org/btrfs-s3-core';
import { spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { applyActions, describeAction, type PreparedUnits, prepareUnits, type UnitAction } from '@org/btrfs-s3-systemd';
import { join } from 'node:path';

/**
 * The executable the package declares (package.json `bin`): `bin/run.js` in a checkout,
 * the launcher `bin/btrfs-to-s3` in the release, which carries the Node flags.
 */
export function declaredExecutable(packageRoot: string, bin: unknown): string {
  const declared = typeof bin === 'string' ? bin : (bin as Record<string, unknown> | undefined)?.['btrfs-to-s3'];
  return join(packageRoot, typeof declared === 'string' ? declared : join('bin', 'run.js'));
}

/**
 * The units for this install: ExecStart is the executable that is running (or the
 * package's declared one), with the config it was given; with `drill`, the drill units
 * too (refused with exit 2 unless drill.scratch_dir is a directory on Btrfs). Warnings
 * (paths the sandbox hides, environment overrides the service will not see) go to the log.
 */
export async function unitsForThisInstall(
  config: Config,
  configPath: string,
  pjson: { readonly root: string; readonly bin: unknown },
  logger: Logger,
  options: { drill?: boolean } = {},
): Promise<PreparedUnits> {
  const prepared = await prepareUnits({
    config,
    configPath,
    binPath: declaredExecutable(pjson.root, pjson.bin),
    // The release's launcher names the path it was started by; a checkout is started as bin/run.js itself.
    invokedAs: process.env.BTRFS_TO_S3_INVOKED_AS ?? process.argv[1],
    nodePath: process.execPath,
    env: process.env,
    drill: options.drill === true,
  });
  for (const warning of prepared.warnings) logger.warn(warning);
  return prepared;
}

/** Carries out `actions` (or, with `dryRun`, only describes them), one line each to `log`, in order. */
export async function carryOut(actions: readonly UnitAction[], dryRun: boolean, log: (line: string) => void): Promise<void> {
  if (dryRun) for (const action of actions) log(describeAction(action, { dryRun }));
  else await applyActions(actions, spawnProcessRunner, (action) => log(describeAction(action, { dryRun })));
}
