import { BtrfsToS3Error } from '../errors';
import { ExitCode } from '../exit-codes';
import type { Manifest } from '../manifest/schema';
import { parseManifest, parsePointer } from '../manifest/parse';
import { pointerKey } from '../manifest/keys';

/** Reads whole small objects (manifests, pointers); undefined when the object does not exist. */
export interface ManifestSource {
  readText(key: string): Promise<string | undefined>;
}

/** The chain from `current.json` (or a given manifest) back to its full cannot be restored. */
export class ChainError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Fatal });
  }
}

/** A full every 6 months and weekly incrementals is ~26 links; this only stops runaway chains. */
const MAX_CHAIN_LENGTH = 10_000;

/** The manifest key a restore starts from: `--manifest-key`, or what `current.json` points to. */
export async function resolveStartKey(source: ManifestSource, prefix: string, subvolume: string, manifestKey?: string): Promise<string> {
  if (manifestKey !== undefined) return manifestKey;
  const key = pointerKey(prefix, subvolume);
  const text = await source.readText(key);
  if (text === undefined) throw new ChainError(`no backup of subvolume "${subvolume}": ${key} does not exist`);
  return parsePointer(key, text).manifest_key;
}

export interface ChainLink {
  readonly key: string;
  readonly manifest: Manifest;
}

/**
 * Follows `parent_manifest` from `startKey` back to the full and returns the chain
 * oldest first. Every manifest is read and checked before any chunk is downloaded:
 * a missing or malformed manifest, an unknown version, a loop, a manifest of another
 * subvolume or a kind that contradicts its parent link is an error naming the key.
 */
export async function resolveChain(source: ManifestSource, startKey: string, subvolume: string): Promise<ChainLink[]> {
  const chain: ChainLink[] = [];
  const seen = new Set<string>();
  let key: string | null = startKey;
  let child: string | undefined;
  while (key !== null) {
    if (seen.has(key)) throw new ChainError(`broken chain: manifest ${key} is its own ancestor (a loop through ${[...seen].join(' -> ')})`);
    if (chain.length >= MAX_CHAIN_LENGTH) throw new ChainError(`broken chain: more than ${MAX_CHAIN_LENGTH} manifests from ${startKey}`);
    seen.add(key);
    const text = await source.readText(key);
    if (text === undefined)
      throw new ChainError(
        child === undefined ? `manifest ${key} does not exist` : `broken chain: manifest ${key}, the parent of ${child}, does not exist`,
      );
    const manifest = parseManifest(key, text);
    if (manifest.subvolume !== subvolume)
      throw new ChainError(`broken chain: manifest ${key} belongs to subvolume "${manifest.subvolume}", not "${subvolume}"`);
    if (manifest.kind === 'full' && manifest.parent_manifest !== null)
      throw new ChainError(`broken chain: manifest ${key} is a full but names a parent`);
    if (manifest.kind === 'inc' && manifest.parent_manifest === null)
      throw new ChainError(`broken chain: manifest ${key} is an incremental without a parent`);
    chain.push({ key, manifest });
    child = key;
    key = manifest.parent_manifest;
  }
  return chain.reverse();
}
