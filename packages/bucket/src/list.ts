import { BtrfsToS3Error, ExitCode, type RemoteBackup, type RemoteInventory, restorablePoints, subvolumeName } from '@org/btrfs-s3-core';
import { type BucketOptions, withBucketContext } from './context';
import { listSubvolumeObjects, readInventory } from './inventory';
import type { ListedBackup, ListedSubvolume, ListResult } from './schemas';

export interface ListOptions extends BucketOptions {
  /** Only these subvolumes (configured, or found in the bucket); all when absent or empty. */
  readonly subvolumes?: readonly string[];
}

/** `--subvolume` names a subvolume neither configured nor in the bucket. */
export class UnknownListedSubvolumeError extends BtrfsToS3Error {
  constructor(unknown: readonly string[], known: readonly string[]) {
    super(
      `--subvolume: no subvolume ${unknown.map((name) => `"${name}"`).join(', ')} in the config or the bucket; known: ${known.join(', ') || 'none'}`,
      { exitCode: ExitCode.Usage },
    );
  }
}

/**
 * What the bucket holds per subvolume: configured ones (in config order), then any
 * other found under `<prefix>/subvol/`, each grouped into generations, with the
 * backups current.json reaches marked and failed runs' directories apart. Read-only.
 */
export function runList(options: ListOptions): Promise<ListResult> {
  const wanted = options.subvolumes ?? [];
  return withBucketContext(options, async (context) => {
    const { config } = context;
    const configured = config.subvolumes?.paths.map(subvolumeName) ?? [];
    const found = await listSubvolumeObjects(context);
    const names = [...configured, ...[...found.keys()].filter((name) => !configured.includes(name)).sort()];
    const unknown = wanted.filter((name) => !names.includes(name));
    if (unknown.length > 0) throw new UnknownListedSubvolumeError(unknown, names);
    const subvolumes: ListedSubvolume[] = [];
    for (const name of names.filter((entry) => wanted.length === 0 || wanted.includes(entry))) {
      const inventory = await readInventory(context, name, found.get(name) ?? []);
      subvolumes.push(toListed(inventory, configured.includes(name), context.now()));
    }
    return { bucket: config.s3.bucket, prefix: config.s3.prefix, subvolumes };
  });
}

const sum = (backup: RemoteBackup) => backup.objects.reduce((total, object) => total + object.size, 0);

function toListed(inventory: RemoteInventory, configured: boolean, now: Date): ListedSubvolume {
  const pointer = inventory.pointer.state === 'ok' ? inventory.pointer.pointer : undefined;
  const backup = (entry: RemoteBackup): ListedBackup => ({
    dir: entry.dir,
    manifestKey: entry.manifestKey,
    kind: entry.kind,
    state: entry.state,
    createdAt: entry.createdAt.toISOString(),
    totalBytes: entry.manifest?.total_bytes ?? null,
    chunks: entry.manifest?.chunks.length ?? null,
    // Without a manifest, what the chunks were stored as.
    storageClass:
      entry.manifest?.s3.storage_class ?? entry.objects.find((object) => !object.key.endsWith('/manifest.json'))?.storageClass ?? null,
    parentManifest: entry.manifest?.parent_manifest ?? null,
    objects: entry.objects.length,
    storedBytes: sum(entry),
    current: pointer?.manifest_key === entry.manifestKey,
    reachable: inventory.reachable.includes(entry.dir),
    problem: entry.problem ?? null,
  });
  return {
    subvolume: inventory.subvolume,
    configured,
    current: pointer === undefined ? null : { manifestKey: pointer.manifest_key, kind: pointer.kind, createdAt: pointer.created_at },
    chainBreak: inventory.chainBreak ?? null,
    generations: inventory.generations.map((generation) => ({
      root: generation.root,
      rootState: generation.rootState,
      createdAt: generation.createdAt.toISOString(),
      current: generation.current,
      backups: generation.backups.map(backup),
    })),
    restorablePoints: restorablePoints(inventory).map((point) => ({
      createdAt: point.createdAt.toISOString(),
      kind: point.kind,
      manifestKey: point.manifestKey,
    })),
    incomplete: inventory.incomplete.map((entry) => ({
      dir: entry.dir,
      kind: entry.kind,
      objects: entry.objects.length,
      bytes: sum(entry),
      newestObjectAt: entry.newestObjectAt.toISOString(),
      ageHours: Math.round((now.getTime() - entry.newestObjectAt.getTime()) / 360_000) / 10,
    })),
    otherKeys: inventory.strays.map((object) => object.key),
  };
}
