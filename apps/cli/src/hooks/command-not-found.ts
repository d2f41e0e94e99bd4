import { type Hook } from '@oclif/core';
import { ExitCode, redactText, secretsFromEnv } from '@org/btrfs-s3-core';
import { distance } from 'fastest-levenshtein';

/** Typos this far from a command (edits, as Levenshtein counts them) get it suggested. */
const MAX_EDITS = 2;

/** The commands within MAX_EDITS of what was typed, nearest first, as a user types them (`config show`). */
export function suggestions(typed: string, ids: readonly string[]): string[] {
  return ids
    .map((id) => ({ id, edits: distance(typed, id) }))
    .filter(({ edits }) => edits <= MAX_EDITS)
    .sort((a, b) => a.edits - b.edits || (a.id < b.id ? -1 : 1))
    .map(({ id }) => id.replaceAll(':', ' '));
}

/**
 * An unknown command: exit 2 with the nearest commands, if any are close. oclif's own
 * message quotes what was typed, which can be a credential pasted into the wrong place;
 * this one is redacted like every other error.
 */
const hook: Hook<'command_not_found'> = async function (options) {
  const near = suggestions(options.id, this.config.commandIDs);
  const hint = near.length === 0 ? 'see --help' : `did you mean ${near.map((id) => `\`${id}\``).join(' or ')}? See --help`;
  const typed = options.id.replaceAll(':', ' ');
  this.error(redactText(`command ${typed} not found; ${hint}`, secretsFromEnv(process.env)), { exit: ExitCode.Usage });
};

export default hook;
