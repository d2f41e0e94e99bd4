import { type Env, runCli, runCliAsync, startCli } from '@org/testenv';
import { dirname, join } from 'node:path';

/** The installed CLI executable (its shebang carries the runtime flags), located through its package. */
export const BIN = join(dirname(require.resolve('btrfs-to-s3/package.json')), 'bin', 'run.js');

export const cli = (args: readonly string[], env: Env = {}) => runCli(BIN, args, env);
export const cliAsync = (args: readonly string[], env: Env = {}) => runCliAsync(BIN, args, env);
export const startBackground = (args: readonly string[], env: Env = {}) => startCli(BIN, args, env);
