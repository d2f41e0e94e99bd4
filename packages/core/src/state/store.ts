import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { BtrfsToS3Error, errnoCode } from '../errors';
import { ExitCode } from '../exit-codes';
import { writeFileAtomic } from '../fs/atomic';
import { emptyState, type State, StateSchema, STATE_VERSION } from './schema';

/**
 * The state file exists but cannot be used. It is never silently reset: `corruption`
 * (what is wrong with unreadable content, as opposed to an I/O error or a newer
 * version) tells a backup it may move the file aside and rebuild state from the bucket.
 */
export class StateError extends BtrfsToS3Error {
  constructor(
    message: string,
    cause?: unknown,
    readonly corruption?: string,
  ) {
    super(message, { exitCode: ExitCode.Fatal, cause });
  }

  /** The file's content is unusable: the message names the problem and the way out. */
  static corrupt(path: string, corruption: string, cause?: unknown): StateError {
    return new StateError(
      `state file ${path} is corrupt (${corruption}); move it aside to start over with full backups`,
      cause,
      corruption,
    );
  }
}

/**
 * Reads the state file. A missing file is a first run (empty state); a corrupt
 * file, or one written by a newer version, is an error that names the file.
 */
export async function readState(path: string): Promise<State> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return emptyState();
    throw new StateError(`cannot read state file ${path}: ${errnoCode(error) ?? String(error)}`, error);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw StateError.corrupt(path, `not JSON: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const version = typeof document === 'object' && document !== null && 'version' in document ? document.version : undefined;
  if (typeof version === 'number' && version > STATE_VERSION) {
    throw new StateError(
      `state file ${path} has version ${version}, newer than this btrfs-to-s3 understands (${STATE_VERSION}); upgrade btrfs-to-s3`,
    );
  }
  const result = v.safeParse(StateSchema, document);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? '(top level)'}: ${issue.message}`).join('; ');
    throw StateError.corrupt(path, problems);
  }
  return result.output;
}

/** Writes the state atomically (see writeFileAtomic): a crash leaves the old or the new state. */
export async function writeState(path: string, state: State): Promise<void> {
  const validated = v.parse(StateSchema, state);
  try {
    await writeFileAtomic(path, `${JSON.stringify(validated, null, 2)}\n`);
  } catch (error) {
    throw new StateError(`cannot write state file ${path}: ${errnoCode(error) ?? String(error)}`, error);
  }
}
