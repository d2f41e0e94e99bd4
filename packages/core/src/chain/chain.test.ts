import { ExitCode } from '../exit-codes';
import type { ManifestV1 } from '../manifest/schema';
import { serializeManifest } from '../manifest/parse';
import { ChainError, type ManifestSource, resolveChain, resolveStartKey } from './chain';

const H = 'a'.repeat(64);
const FULL = 'p/subvol/data/full/20260101T000000Z/manifest.json';
const INC1 = 'p/subvol/data/inc/20260108T000000Z/manifest.json';
const INC2 = 'p/subvol/data/inc/20260115T000000Z/manifest.json';

/** A manifest as published at `key`: its snapshot named after the key's timestamp, its one chunk beside it. */
function manifest(key: string, kind: 'full' | 'inc', parent: string | null, overrides: Partial<ManifestV1> = {}): ManifestV1 {
  const dir = key.slice(0, key.lastIndexOf('/'));
  const name = `${overrides.subvolume ?? 'data'}__${dir.slice(dir.lastIndexOf('/') + 1)}__${kind}`;
  return {
    version: 1,
    subvolume: 'data',
    kind,
    created_at: '2026-01-01T00:00:00.000Z',
    snapshot: { name, path: `/s/${name}`, uuid: 'u', parent_uuid: null },
    parent_manifest: parent,
    parent_snapshot_uuid: parent === null ? null : 'pu',
    chunks: [{ key: `${dir}/chunks/part-00000.bin`, size: 1, sha256: H, etag: 'e', parts: [{ number: 1, size: 1, sha256: H }] }],
    total_bytes: 1,
    chunk_size: 1,
    part_size: 1,
    s3: { bucket: 'b', region: 'r', storage_class: 'DEEP_ARCHIVE' },
    restore: { stream_sha256: H, chunk_hash_algo: 'sha256' },
    tool: { name: 'btrfs-to-s3', version: '0' },
    ...overrides,
  };
}

/** An in-memory bucket that records which keys were read. */
function bucket(objects: Record<string, string>): ManifestSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async readText(key) {
      reads.push(key);
      return objects[key];
    },
  };
}

const healthy = {
  [FULL]: serializeManifest(manifest(FULL, 'full', null)),
  [INC1]: serializeManifest(manifest(INC1, 'inc', FULL)),
  [INC2]: serializeManifest(manifest(INC2, 'inc', INC1)),
  'p/subvol/data/current.json': JSON.stringify({ version: 1, manifest_key: INC2, kind: 'inc', created_at: '2026-01-15T00:00:00.000Z' }),
};

describe('resolveStartKey', () => {
  it('starts from current.json, or from --manifest-key without reading it', async () => {
    await expect(resolveStartKey(bucket(healthy), 'p', 'data')).resolves.toBe(INC2);
    const source = bucket(healthy);
    await expect(resolveStartKey(source, 'p', 'data', INC1)).resolves.toBe(INC1);
    expect(source.reads).toEqual([]);
  });

  it('names the missing pointer', async () => {
    await expect(resolveStartKey(bucket({}), 'p', 'home')).rejects.toThrow(
      'no backup of subvolume "home": p/subvol/home/current.json does not exist',
    );
  });

  it('refuses a current.json pointing nowhere useful', async () => {
    await expect(resolveStartKey(bucket({ 'p/subvol/data/current.json': '{"version":1}' }), 'p', 'data')).rejects.toThrow(
      /^pointer p\/subvol\/data\/current\.json is malformed/,
    );
  });
});

describe('resolveChain', () => {
  it('follows parents back to the full and returns the chain oldest first', async () => {
    const chain = await resolveChain(bucket(healthy), INC2, 'data');
    expect(chain.map((link) => link.key)).toEqual([FULL, INC1, INC2]);
    expect(chain[0]?.manifest.kind).toBe('full');
  });

  it('resolves a lone full', async () => {
    expect((await resolveChain(bucket(healthy), FULL, 'data')).map((link) => link.key)).toEqual([FULL]);
  });

  it.each([
    ['a missing start manifest', { ...healthy, [INC2]: undefined }, `manifest ${INC2} does not exist`],
    ['a missing parent', { ...healthy, [INC1]: undefined }, `broken chain: manifest ${INC1}, the parent of ${INC2}, does not exist`],
    ['a malformed parent', { ...healthy, [INC1]: '{"version": 1, "kind": "inc"' }, `manifest ${INC1} is not valid JSON`],
    [
      'an unknown version',
      { ...healthy, [FULL]: JSON.stringify({ ...manifest(FULL, 'full', null), version: 3 }) },
      `manifest ${FULL} has version 3; this btrfs-to-s3 reads version 1 and 2 only`,
    ],
    [
      'a loop',
      { ...healthy, [FULL]: serializeManifest(manifest(FULL, 'inc', INC2)) },
      `broken chain: manifest ${INC2} is its own ancestor`,
    ],
    [
      'another subvolume in the chain',
      { ...healthy, [INC1]: serializeManifest(manifest(INC1, 'inc', FULL, { subvolume: 'home' })) },
      `broken chain: manifest ${INC1} belongs to subvolume "home", not "data"`,
    ],
    [
      'a full that names a parent',
      { ...healthy, [FULL]: serializeManifest(manifest(FULL, 'full', INC1)) },
      `broken chain: manifest ${FULL} is a full but names a parent`,
    ],
    [
      'an incremental without a parent',
      { ...healthy, [INC1]: serializeManifest(manifest(INC1, 'inc', null)) },
      `broken chain: manifest ${INC1} is an incremental without a parent`,
    ],
  ])('refuses %s before any download, naming the key', async (_case, objects, message) => {
    const present = Object.fromEntries(Object.entries(objects).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const attempt = resolveChain(bucket(present), INC2, 'data');
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Fatal });
  });

  it('reads only manifests, never chunks', async () => {
    const source = bucket(healthy);
    await resolveChain(source, INC2, 'data');
    expect(source.reads).toEqual([INC2, INC1, FULL]);
  });

  it('is a ChainError for structural problems', async () => {
    await expect(resolveChain(bucket({}), INC2, 'data')).rejects.toThrow(ChainError);
  });
});
