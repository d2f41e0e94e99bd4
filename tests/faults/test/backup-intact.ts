import { type Bucket, run, sha256 } from '@org/testenv';

interface Pointer {
  readonly manifest_key: string;
  readonly kind: string;
}

interface ManifestLink {
  readonly kind: string;
  readonly parent_manifest: string | null;
  readonly chunks: readonly { readonly key: string; readonly size: number; readonly sha256: string }[];
}

export const pointerKeyOf = (prefix: string, subvolume = 'data') => `${prefix}/subvol/${subvolume}/current.json`;

export async function readPointer(bucket: Bucket, prefix: string, subvolume = 'data'): Promise<Pointer> {
  return (await bucket.json(pointerKeyOf(prefix, subvolume))) as Pointer;
}

/**
 * Asserts, independently of the tool, that the chain `current.json` points to is
 * whole: every manifest back to the full exists, and every chunk exists with the
 * recorded size and SHA-256. Returns the chain's manifest keys, newest first.
 */
export async function expectRestorableChain(bucket: Bucket, prefix: string, subvolume = 'data'): Promise<string[]> {
  const keys: string[] = [];
  let key: string | null = (await readPointer(bucket, prefix, subvolume)).manifest_key;
  while (key !== null) {
    keys.push(key);
    const manifest = (await bucket.json(key)) as ManifestLink;
    for (const chunk of manifest.chunks) {
      const bytes = await bucket.bytes(chunk.key);
      if (bytes.length !== chunk.size || sha256(bytes) !== chunk.sha256) throw new Error(`chunk ${chunk.key} of ${key} is damaged`);
    }
    key = manifest.parent_manifest;
  }
  return keys;
}

/** Content, names and links of two trees are identical (GNU diff, not the tool's own comparison). */
export async function expectSameContent(expected: string, actual: string): Promise<void> {
  await run('diff', ['-r', '--no-dereference', expected, actual]);
}
