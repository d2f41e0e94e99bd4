import {
  buildInventory,
  FormatError,
  type ManifestRead,
  type ManifestSource,
  parseManifest,
  parsePointer,
  pointerKey,
  type PointerRead,
  type RemoteInventory,
  type RemoteObject,
  subvolumePrefix,
} from '@org/btrfs-s3-core';
import { connectionsFor, type S3Bucket } from '@org/btrfs-s3-store';
import type { BucketContext } from './context';

export function manifestSource(bucket: S3Bucket): ManifestSource {
  return { readText: (key) => bucket.readTextIfExists(key) };
}

/**
 * The objects of each subvolume in the bucket, by name: of `subvolumes` only, or of
 * every subvolume under `<prefix>/subvol/` (configured or not) when none is given.
 */
export async function listSubvolumeObjects(context: BucketContext, subvolumes?: readonly string[]): Promise<Map<string, RemoteObject[]>> {
  const { bucket } = context;
  const { prefix } = context.config.s3;
  const byName = new Map<string, RemoteObject[]>();
  if (subvolumes !== undefined) {
    for (const name of subvolumes) byName.set(name, await bucket.listObjects(`${subvolumePrefix(prefix, name)}/`));
    return byName;
  }
  const base = `${prefix}/subvol/`;
  for (const object of await bucket.listObjects(base)) {
    const name = object.key.slice(base.length).split('/')[0] ?? '';
    byName.set(name, [...(byName.get(name) ?? []), object]);
  }
  return byName;
}

/**
 * Reads current.json and every listed manifest, and groups the objects (a manifest or
 * pointer that does not parse is recorded, not thrown). `texts`, when given, gets every
 * manifest's text by key, for a caller that reads the same manifests again (the prune's
 * proof of the new chain).
 */
export async function readInventory(
  context: BucketContext,
  subvolume: string,
  objects: readonly RemoteObject[],
  texts?: Map<string, string>,
): Promise<RemoteInventory> {
  const { bucket } = context;
  const { prefix } = context.config.s3;
  const key = pointerKey(prefix, subvolume);
  const base = `${subvolumePrefix(prefix, subvolume)}/`;
  const keys = objects
    .filter((entry) => /^(full|inc)\/[^/]+\/manifest\.json$/.test(entry.key.slice(base.length)))
    .map((entry) => entry.key);
  context.signal.throwIfAborted();
  // The pointer in the same batch as the manifests: one round trip fewer.
  const pointerListed = objects.some((object) => object.key === key);
  const fetched = await bucket.readTextsIfExist(pointerListed ? [key, ...keys] : keys, connectionsFor(context.config.s3));
  const pointerText = pointerListed ? fetched[0] : undefined;
  const manifestTexts = pointerListed ? fetched.slice(1) : fetched;
  let pointer: PointerRead = { state: 'absent' };
  if (pointerText !== undefined)
    pointer = parseOrProblem<PointerRead>(
      () => ({ state: 'ok', pointer: parsePointer(key, pointerText) }),
      (problem) => ({ state: 'unreadable', problem }),
    );
  const manifests = new Map<string, ManifestRead>();
  for (const [index, manifestKey] of keys.entries()) {
    const text = manifestTexts[index];
    if (text !== undefined) texts?.set(manifestKey, text);
    // Listed a moment ago: gone now means deleted meanwhile, which the grouping treats as a broken manifest.
    const read: ManifestRead =
      text === undefined
        ? { problem: `manifest ${manifestKey} vanished after it was listed` }
        : parseOrProblem<ManifestRead>(
            () => ({ manifest: parseManifest(manifestKey, text) }),
            (problem) => ({ problem }),
          );
    manifests.set(manifestKey, read);
  }
  return buildInventory({ prefix, subvolume, objects, manifests, pointer });
}

/** A format problem becomes data (list shows it, prune keeps what it cannot judge); anything else is thrown. */
function parseOrProblem<T>(parse: () => T, problem: (message: string) => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FormatError) return problem(error.message);
    throw error;
  }
}
