import { subvolumePrefix } from '../manifest/keys';
import type { Manifest, Pointer } from '../manifest/schema';
import { type BackupKind, parseSnapshotName } from '../snapshots/names';

/**
 * What one subvolume holds in the bucket, grouped as `list` shows it and `prune`
 * decides on it: backup directories, generations (a full and every backup whose
 * parent chain leads to it) and incomplete directories (a failed run's chunks with no
 * manifest). Pure: the caller lists the objects and reads the manifests.
 */

/** One object as ListObjectsV2 reports it. */
export interface RemoteObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
  /** STANDARD when the listing leaves it out. */
  readonly storageClass: string;
}

/** A manifest.json as read: parsed, or why it cannot be used (the message names the key). */
export type ManifestRead = { readonly manifest: Manifest } | { readonly problem: string };

export type PointerRead =
  | { readonly state: 'absent' }
  | { readonly state: 'ok'; readonly pointer: Pointer }
  | { readonly state: 'unreadable'; readonly problem: string };

export interface InventoryInput {
  readonly prefix: string;
  readonly subvolume: string;
  /** Every object under `<prefix>/subvol/<subvolume>/`. */
  readonly objects: readonly RemoteObject[];
  /** The listed manifest.json objects, read; one missing here counts as unreadable. */
  readonly manifests: ReadonlyMap<string, ManifestRead>;
  readonly pointer: PointerRead;
}

/**
 * - `complete`: its manifest.json parses;
 * - `broken`: it has a manifest.json that cannot be used;
 * - `incomplete`: no manifest.json (a run that failed or was killed before publishing).
 */
export type BackupState = 'complete' | 'broken' | 'incomplete';

/** One `<prefix>/subvol/<name>/(full|inc)/<timestamp>/` directory. */
export interface RemoteBackup {
  readonly dir: string;
  /** From the manifest when it parses, else from the directory name. */
  readonly kind: BackupKind;
  readonly manifestKey: string;
  readonly state: BackupState;
  readonly manifest: Manifest | undefined;
  /** Why a `broken` backup cannot be used. */
  readonly problem: string | undefined;
  readonly objects: readonly RemoteObject[];
  /** The manifest's `created_at`, else the directory's timestamp, else its newest object's time. */
  readonly createdAt: Date;
  /** The newest object's LastModified: how long ago a failed run last wrote here. */
  readonly newestObjectAt: Date;
}

/**
 * Where a generation's chain ends: at a full whose manifest parses (`full`), or where
 * it breaks: a manifest that cannot be used or does not say its parent (`broken`), a
 * directory without manifest (`incomplete`), or a parent that is not in the bucket (`missing`).
 */
export type RootState = 'full' | 'broken' | 'incomplete' | 'missing';

export interface Generation {
  /** The directory of the full, or of where the chain breaks. */
  readonly root: string;
  readonly rootState: RootState;
  /** The root's time: for a `full`, its `created_at`. */
  readonly createdAt: Date;
  /** Oldest first. */
  readonly backups: readonly RemoteBackup[];
  /** Whether a backup reachable from current.json is in it. */
  readonly current: boolean;
}

export interface RemoteInventory {
  readonly subvolume: string;
  readonly pointer: PointerRead;
  /** Every backup directory, oldest first. */
  readonly backups: readonly RemoteBackup[];
  /** Newest first. Holds every backup except the unreferenced incomplete ones. */
  readonly generations: readonly Generation[];
  /** Directories with chunks but no manifest that no manifest or pointer refers to: failed runs. */
  readonly incomplete: readonly RemoteBackup[];
  /** Directories reachable from current.json, newest first (the pointer's own first). */
  readonly reachable: readonly string[];
  /** Why the chain from current.json does not reach a full; undefined when it does or there is no pointer. */
  readonly chainBreak: string | undefined;
  /** Objects outside the layout (neither current.json nor in a backup directory); never touched. */
  readonly strays: readonly RemoteObject[];
}

const MANIFEST = '/manifest.json';
const BACKUP_KEY = /^(full|inc)\/([^/]+)\/.+$/;

export function dirOfManifest(key: string): string {
  return key.endsWith(MANIFEST) ? key.slice(0, -MANIFEST.length) : key;
}

/** A backup directory's `<timestamp>` (`YYYYMMDDTHHMMSSZ`, as in snapshot names), or undefined. */
function timestampOf(dir: string): Date | undefined {
  const match = /\/(full|inc)\/([^/]+)$/.exec(dir);
  // Snapshot names carry the same timestamp; their parser validates it.
  return match === null ? undefined : parseSnapshotName(`x__${match[2] ?? ''}__${match[1] ?? ''}`)?.createdAt;
}

const newest = (objects: readonly RemoteObject[]) => new Date(Math.max(...objects.map((object) => object.lastModified.getTime())));

function toBackup(
  dir: string,
  kind: BackupKind,
  objects: readonly RemoteObject[],
  manifests: ReadonlyMap<string, ManifestRead>,
): RemoteBackup {
  const manifestKey = `${dir}${MANIFEST}`;
  const newestObjectAt = newest(objects);
  const fallbackTime = timestampOf(dir) ?? newestObjectAt;
  const base = { dir, manifestKey, objects, newestObjectAt };
  if (!objects.some((object) => object.key === manifestKey))
    return { ...base, kind, state: 'incomplete', manifest: undefined, problem: undefined, createdAt: fallbackTime };
  const read = manifests.get(manifestKey) ?? { problem: `manifest ${manifestKey} was not read` };
  if ('problem' in read) return { ...base, kind, state: 'broken', manifest: undefined, problem: read.problem, createdAt: fallbackTime };
  const { manifest } = read;
  return { ...base, kind: manifest.kind, state: 'complete', manifest, problem: undefined, createdAt: new Date(manifest.created_at) };
}

/** Splits the listing into backup directories and what lies outside the layout. */
function groupObjects(input: InventoryInput): { backups: RemoteBackup[]; strays: RemoteObject[] } {
  const base = `${subvolumePrefix(input.prefix, input.subvolume)}/`;
  const byDir = new Map<string, { kind: BackupKind; objects: RemoteObject[] }>();
  const strays: RemoteObject[] = [];
  for (const object of input.objects) {
    const relative = object.key.startsWith(base) ? object.key.slice(base.length) : undefined;
    if (relative === 'current.json') continue;
    const match = relative === undefined ? null : BACKUP_KEY.exec(relative);
    if (match === null) {
      strays.push(object);
      continue;
    }
    const dir = `${base}${match[1] ?? ''}/${match[2] ?? ''}`;
    const entry = byDir.get(dir) ?? { kind: match[1] === 'full' ? 'full' : 'inc', objects: [] };
    entry.objects.push(object);
    byDir.set(dir, entry);
  }
  const backups = [...byDir.entries()].map(([dir, entry]) => toBackup(dir, entry.kind, entry.objects, input.manifests));
  backups.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.dir < b.dir ? -1 : 1));
  return { backups, strays };
}

interface Root {
  readonly dir: string;
  readonly state: RootState;
}

/** Follows parent links from `backup` to the full, or to where the chain breaks. */
function rootOf(backup: RemoteBackup, byDir: ReadonlyMap<string, RemoteBackup>): Root {
  const path: string[] = [];
  let current = backup;
  for (;;) {
    if (current.state !== 'complete' || current.manifest === undefined)
      return { dir: current.dir, state: current.state === 'broken' ? 'broken' : 'incomplete' };
    if (current.manifest.kind === 'full') return { dir: current.dir, state: 'full' };
    const parent = current.manifest.parent_manifest;
    // An incremental without a parent: the chain has no full.
    if (parent === null) return { dir: current.dir, state: 'broken' };
    const loopStart = path.indexOf(current.dir);
    // A loop of parents has no full either; rooted at its first directory by name, wherever it was entered.
    if (loopStart >= 0) return { dir: [...path.slice(loopStart)].sort()[0] ?? current.dir, state: 'broken' };
    path.push(current.dir);
    const next = byDir.get(dirOfManifest(parent));
    if (next === undefined) return { dir: dirOfManifest(parent), state: 'missing' };
    current = next;
  }
}

/** The directories current.json reaches, and why the chain stops short of a full if it does. */
function reachableFrom(
  pointer: PointerRead,
  byDir: ReadonlyMap<string, RemoteBackup>,
): { reachable: string[]; chainBreak: string | undefined } {
  if (pointer.state === 'absent') return { reachable: [], chainBreak: undefined };
  if (pointer.state === 'unreadable') return { reachable: [], chainBreak: pointer.problem };
  const reachable: string[] = [];
  let key = pointer.pointer.manifest_key;
  for (;;) {
    const dir = dirOfManifest(key);
    if (reachable.includes(dir)) return { reachable, chainBreak: `manifest ${key} is its own ancestor` };
    reachable.push(dir);
    const backup = byDir.get(dir);
    if (backup === undefined || backup.state === 'incomplete') return { reachable, chainBreak: `manifest ${key} does not exist` };
    if (backup.manifest === undefined) return { reachable, chainBreak: backup.problem };
    if (backup.manifest.kind === 'full') return { reachable, chainBreak: undefined };
    if (backup.manifest.parent_manifest === null) return { reachable, chainBreak: `manifest ${key} is an incremental without a parent` };
    key = backup.manifest.parent_manifest;
  }
}

/** Groups one subvolume's objects into backups, generations and failed runs. */
export function buildInventory(input: InventoryInput): RemoteInventory {
  const { backups, strays } = groupObjects(input);
  const byDir = new Map(backups.map((backup) => [backup.dir, backup]));
  const { reachable, chainBreak } = reachableFrom(input.pointer, byDir);
  const referenced = new Set(
    backups.flatMap((backup) => (backup.manifest?.parent_manifest == null ? [] : [dirOfManifest(backup.manifest.parent_manifest)])),
  );
  const isFailedRun = (backup: RemoteBackup) =>
    backup.state === 'incomplete' && !referenced.has(backup.dir) && !reachable.includes(backup.dir);

  const groups = new Map<string, { root: Root; backups: RemoteBackup[] }>();
  for (const backup of backups.filter((entry) => !isFailedRun(entry))) {
    const root = rootOf(backup, byDir);
    const group = groups.get(root.dir) ?? { root, backups: [] };
    group.backups.push(backup);
    groups.set(root.dir, group);
  }
  const generations = [...groups.values()].map(({ root, backups: members }): Generation => {
    const createdAt = byDir.get(root.dir)?.createdAt ?? timestampOf(root.dir) ?? members[0]?.createdAt ?? new Date(0);
    return {
      root: root.dir,
      rootState: root.state,
      createdAt,
      backups: members,
      current: members.some((member) => reachable.includes(member.dir)),
    };
  });
  generations.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.root < b.root ? 1 : -1));
  return {
    subvolume: input.subvolume,
    pointer: input.pointer,
    backups,
    generations,
    incomplete: backups.filter(isFailedRun),
    reachable,
    chainBreak,
    strays,
  };
}

/**
 * The backups a restore can start from: complete, in a generation whose chain reaches
 * a full (every manifest on the way parses). Oldest first.
 */
export function restorablePoints(inventory: RemoteInventory): RemoteBackup[] {
  return inventory.generations
    .filter((generation) => generation.rootState === 'full')
    .flatMap((generation) => generation.backups.filter((backup) => backup.state === 'complete'))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.dir < b.dir ? -1 : 1));
}
