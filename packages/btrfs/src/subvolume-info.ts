/** One subvolume as `btrfs subvolume show` describes it. */
export interface SubvolumeInfo {
  /** The path it was looked up by (not the path inside the filesystem that show prints first). */
  readonly path: string;
  readonly name: string;
  readonly uuid: string;
  /** UUID of the subvolume this one is a snapshot of; null for a subvolume created empty. */
  readonly parentUuid: string | null;
  /** UUID of the sent snapshot this one was received from; null unless made by `btrfs receive`. */
  readonly receivedUuid: string | null;
  readonly readOnly: boolean;
  readonly generation: number;
  /** As btrfs-progs prints it, in local time with offset: "2024-05-01 12:00:00 +0000". */
  readonly creationTime?: string;
}

/**
 * Reads the output of `btrfs subvolume show PATH` (btrfs-progs 6.x). The first
 * line is the path inside the filesystem, then one "\tKey: \t\tvalue" line per
 * field; the snapshot list below "Snapshot(s):" is indented further and skipped.
 * Throws a plain Error naming the missing or malformed field; the caller wraps it.
 */
export function parseSubvolumeShow(path: string, output: string): SubvolumeInfo {
  const fields = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^\t([^\t:][^:]*):[ \t]*(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined && !fields.has(match[1])) fields.set(match[1], match[2]);
  }
  const field = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined || value === '') throw new Error(`no "${key}:" line in the output of btrfs subvolume show ${path}`);
    return value;
  };
  // btrfs-progs prints "-" for an absent UUID, time or flag set.
  const optional = (key: string): string | null => (field(key) === '-' ? null : field(key));
  const uuid = optional('UUID');
  if (uuid === null) throw new Error(`btrfs subvolume show ${path} printed no UUID`);
  const generation = Number(field('Generation'));
  if (!Number.isSafeInteger(generation) || generation < 0)
    throw new Error(`btrfs subvolume show ${path} printed generation "${field('Generation')}"`);
  const creationTime = fields.get('Creation time');
  return {
    path,
    name: field('Name'),
    uuid,
    parentUuid: optional('Parent UUID'),
    receivedUuid: optional('Received UUID'),
    readOnly: field('Flags')
      .split(/[\s,|]+/)
      .includes('readonly'),
    generation,
    ...(creationTime === undefined || creationTime === '-' ? {} : { creationTime }),
  };
}
