import { execute } from '@oclif/core';
import Backup from './commands/backup';
import ConfigInit from './commands/config/init';
import ConfigShow from './commands/config/show';
import ConfigValidate from './commands/config/validate';
import Doctor from './commands/doctor';
import Drill from './commands/drill';
import Help from './commands/help';
import KeyGenerate from './commands/key/generate';
import List from './commands/list';
import Plan from './commands/plan';
import Prune from './commands/prune';
import Restore from './commands/restore';
import Status from './commands/status';
import Verify from './commands/verify';
import commandNotFound from './hooks/command-not-found';

/**
 * What oclif loads (package.json `oclif.commands`, strategy `explicit`): every command
 * by its id. One module instead of a directory scan at every start, and the shape a
 * bundler can follow (scripts/release.sh bundles this file). The commands import the
 * packages that do the work (backup, restore, bucket, systemd, the AWS SDK) inside
 * run(), so `--help`, `--version` and a mistyped command load only oclif and core
 * (docs/release.md, "Start-up").
 */
export const COMMANDS = {
  backup: Backup,
  'config:init': ConfigInit,
  'config:show': ConfigShow,
  'config:validate': ConfigValidate,
  doctor: Doctor,
  drill: Drill,
  help: Help,
  'key:generate': KeyGenerate,
  list: List,
  plan: Plan,
  prune: Prune,
  restore: Restore,
  status: Status,
  verify: Verify,
};

/** package.json `oclif.hooks.command_not_found`. */
export const COMMAND_NOT_FOUND = commandNotFound;

/** Runs the CLI whose package.json (with the `oclif` section) is at or above `dir`. */
export function run(dir: string): Promise<unknown> {
  return execute({ dir });
}
