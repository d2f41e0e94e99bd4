import { type Hook } from '@oclif/core';
import { ExitCode, redactText, secretsFromEnv } from '@org/btrfs-s3-core';

/**
 * oclif's own "command not found" message quotes what was typed, which can be a
 * credential pasted into the wrong place; this one is redacted like every other error.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  this.error(redactText(`command ${options.id} not found; see --help`, secretsFromEnv(process.env)), { exit: ExitCode.Usage });
};

export default hook;
