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
 * in creation order. `avoid` are names whose seconds must not be reused but that set
 * no minimum (a failed run's, whose time may be far off): the timestamp moves past
 * each one it meets, not past the newest.
 */
export function nextSnapshotName(
  subvolume: string,
  now: Date,
  kind: BackupKind,
  taken: Iterable<string>,
  avoid: Iterable<string> = [],
): SnapshotName {
  const secondsOf = (names: Iterable<string>) =>
    [...names].flatMap((name) => {
      const parsed = parseSnapshotName(name);
      return parsed?.subvolume === subvolume ? [parsed.createdAt.getTime() / 1000] : [];
    });
  const latest = Math.max(0, ...secondsOf(taken));
  const avoided = new Set(secondsOf(avoid));
  let seconds = Math.max(Math.floor(now.getTime() / 1000), latest + 1);
  while (avoided.has(seconds)) seconds += 1;
  const createdAt = new Date(seconds * 1000);
  return { name: formatSnapshotName(subvolume, createdAt, kind), subvolume, createdAt, kind };
}
