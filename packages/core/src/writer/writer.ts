import { crypto } from '../lazy-crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as v from 'valibot';
import { BtrfsToS3Error, errnoCode } from '../errors';
import { ExitCode } from '../exit-codes';

/** Who wrote a backup: recorded in manifests and current.json, so two hosts on one prefix can tell each other apart. */
export const WriterSchema = v.strictObject({
  /** A stable host id: an app-specific HMAC of /etc/machine-id (machine-id(5) asks never to publish the raw id). */
  id: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits')),
  /** The host name, for people. */
  host: v.string(),
});

export type Writer = v.InferOutput<typeof WriterSchema>;

const MACHINE_ID_PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/**
 * This host as a writer: the id is HMAC-SHA256 keyed with the machine id over an
 * app-specific label (as machine-id(5) recommends), so it is stable across runs and
 * reinstalls of the tool, differs between hosts, and reveals nothing of the machine id.
 * A host without a machine id (some containers) falls back to its host name.
 */
export async function writerIdentity(
  options: { readonly machineIdPaths?: readonly string[]; readonly host?: string } = {},
): Promise<Writer> {
  const host = options.host ?? hostname();
  let key: string | undefined;
  for (const path of options.machineIdPaths ?? MACHINE_ID_PATHS) {
    try {
      key = (await readFile(path, 'utf8')).trim() || undefined;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    if (key !== undefined) break;
  }
  const id = crypto()
    .createHmac('sha256', key ?? `hostname:${host}`)
    .update('btrfs-to-s3 writer v1')
    .digest('hex')
    .slice(0, 32);
  return { id, host };
}

/** current.json, or a run in progress (its writer marker), is another host's: two writers on one prefix would corrupt each other's chains. */
export class WriterConflictError extends BtrfsToS3Error {
  constructor(
    /** The object that names the other writer: a current.json, or a run's writer.json. */
    readonly key: string,
    readonly other: Writer,
    readonly self: Writer,
  ) {
    super(
      `${key} was written by host ${other.host} (writer ${other.id}); this host is ${self.host} (writer ${self.id}). Two hosts must not back up to one prefix: give this host its own s3.prefix; or, if ${other.host} is gone for good (a rebuilt host after a disaster), run backup --take-over once`,
      { exitCode: ExitCode.Usage },
    );
  }
}
