import { constants } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SystemdError } from './errors';

/** Where the running CLI lives, to choose the executable the service runs. */
export interface ExecPathInput {
  /** The CLI's own entry script (the package's bin, e.g. `<root>/bin/run.js`). */
  readonly binPath: string;
  /** How the running CLI was invoked (`process.argv[1]`), if known. */
  readonly invokedAs?: string | undefined;
}

async function real(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined; // not an existing path: it cannot be the entry script
  }
}

/**
 * The executable the service runs. The path the operator invoked wins when it leads to
 * the same entry script (e.g. a package manager's /usr/bin/btrfs-to-s3 link), because
 * that link keeps working when an upgrade moves the package; otherwise the script itself.
 */
export async function resolveExecPath(input: ExecPathInput): Promise<string> {
  const binPath = resolve(input.binPath);
  const target = await real(binPath);
  if (target === undefined) throw new SystemdError(`the btrfs-to-s3 executable ${binPath} does not exist`);
  const invoked = input.invokedAs === undefined ? undefined : resolve(input.invokedAs);
  const chosen = invoked !== undefined && (await real(invoked)) === target ? invoked : binPath;
  try {
    await access(chosen, constants.X_OK);
  } catch (error) {
    throw new SystemdError(`the btrfs-to-s3 executable ${chosen} is not executable; systemd could not start it`, error);
  }
  return chosen;
}
