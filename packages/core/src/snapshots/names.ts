/**
 * Snapshot names: `<subvol>__<YYYYMMDDTHHMMSSZ>__<full|inc>`, UTC. The tool only
 * ever deletes snapshots whose names match this pattern, so it never touches a
 * snapshot someone else made in the same directory.
 */
export type BackupKind = 'full' | 'inc';

export interface SnapshotName {
  readonly name: string;
  readonly subvolume: string;
  readonly createdAt: Date;
  readonly kind: BackupKind;
}

const PATTERN = /^(.+)__(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z__(full|inc)$/;

/** 2026-11-25T02:00:07.123Z -> "20261125T020007Z" (seconds resolution). */
export function compactTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export function formatSnapshotName(subvolume: string, createdAt: Date, kind: BackupKind): string {
  return `${subvolume}__${compactTimestamp(createdAt)}__${kind}`;
}

/** The parts of one of our snapshot names, or undefined if the name is not ours. */
export function parseSnapshotName(name: string): SnapshotName | undefined {
  const match = PATTERN.exec(name);
  if (match === null) return undefined;
  const [, subvolume = '', year, month, day, hour, minute, second, kind] = match;
  const createdAt = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
  if (Number.isNaN(createdAt.getTime()) || compactTimestamp(createdAt) !== `${year}${month}${day}T${hour}${minute}${second}Z`)
    return undefined;
  return { name, subvolume, createdAt, kind: kind === 'full' ? 'full' : 'inc' };
}

/**
 * A name for a new snapshot that collides with none of `taken`. Two runs in the
 * same second (or a clock that stepped back a little) move the timestamp forward
 * one second at a time, so names stay in the documented format and still sort
 * in creation order.
 */
export function nextSnapshotName(subvolume: string, now: Date, kind: BackupKind, taken: Iterable<string>): SnapshotName {
  let latest = 0;
  for (const name of taken) {
    const parsed = parseSnapshotName(name);
    if (parsed?.subvolume === subvolume) latest = Math.max(latest, parsed.createdAt.getTime());
  }
  let seconds = Math.floor(now.getTime() / 1000);
  if (latest >= seconds * 1000) seconds = latest / 1000 + 1;
  const createdAt = new Date(seconds * 1000);
  return { name: formatSnapshotName(subvolume, createdAt, kind), subvolume, createdAt, kind };
}
