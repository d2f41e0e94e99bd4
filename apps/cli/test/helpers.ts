import { type Env, runCli, runCliAsync } from '@org/testenv';
import { join } from 'node:path';

export { writeConfig } from '@org/testenv';

export const BIN = join(__dirname, '..', 'bin', 'run.js');

/** Runs the real executable with a clean environment plus `env`. */
export const cli = (args: readonly string[], env: Env = {}) => runCli(BIN, args, env);

/**
 * The same, without blocking the event loop: for tests that serve the CLI from this
 * process (e.g. the archive double), which a synchronous spawn would starve.
 */
export const cliAsync = (args: readonly string[], env: Env = {}) => runCliAsync(BIN, args, env);
