import { run, sha256 } from '@org/testenv';

/** Where a fault case reads the bucket from: the shared gateway's `Bucket` or a dedicated gateway. */
export interface ObjectReader {
  json(key: string): Promise<unknown>;
  bytes(key: string): Promise<Buffer>;
}

export interface Pointer {
  readonly manifest_key: string;
  readonly kind: string;
}

/** The manifest fields the fault cases check, read independently of the tool's own parser. */
export interface Manifest {
  readonly kind: string;
  readonly parent_manifest: string | null;
  readonly total_bytes: number;
  readonly snapshot: { readonly name: string };
  readonly chunks: readonly { readonly key: string; readonly size: number; readonly sha256: string }[];
  /** Unencoded backups (the fault suite's): the private section is in the clear. */
  readonly private: { readonly clear: { readonly stream_sha256: string } };
}

export const pointerKeyOf = (prefix: string, subvolume = 'data') => `${prefix}/subvol/${subvolume}/current.json`;

export async function readPointer(reader: ObjectReader, prefix: string, subvolume = 'data'): Promise<Pointer> {
  return (await reader.json(pointerKeyOf(prefix, subvolume))) as Pointer;
}

/**
 * Asserts, independently of the tool, that the chain ending at `manifestKey` is whole:
 * every manifest back to the full exists, every chunk has its recorded size and
 * SHA-256, and each backup's chunks joined hash to its recorded stream SHA-256 (the
 * bytes `btrfs send` produced). Returns the chain's manifest keys, newest first.
 */
export async function expectWholeChain(reader: ObjectReader, manifestKey: string): Promise<string[]> {
  const keys: string[] = [];
  for (let key: string | null = manifestKey; key !== null;) {
    keys.push(key);
    const manifest = (await reader.json(key)) as Manifest;
    const chunks = await Promise.all(manifest.chunks.map((chunk) => reader.bytes(chunk.key)));
    expect(chunks.map((bytes) => ({ size: bytes.length, sha256: sha256(bytes) }))).toEqual(
      manifest.chunks.map(({ size, sha256: hash }) => ({ size, sha256: hash })),
    );
    const stream = Buffer.concat(chunks);
    expect({ bytes: stream.length, sha256: sha256(stream) }).toEqual({
      bytes: manifest.total_bytes,
      sha256: manifest.private.clear.stream_sha256,
    });
    key = manifest.parent_manifest;
  }
  return keys;
}

/** The same for the chain `current.json` points to. */
export async function expectRestorableChain(reader: ObjectReader, prefix: string, subvolume = 'data'): Promise<string[]> {
  return expectWholeChain(reader, (await readPointer(reader, prefix, subvolume)).manifest_key);
}

/** Content, names and links of two trees are identical (GNU diff, not the tool's own comparison). */
export async function expectSameContent(expected: string, actual: string): Promise<void> {
  await run('diff', ['-r', '--no-dereference', expected, actual]);
}
