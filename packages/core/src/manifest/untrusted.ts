import { S3_LIMITS } from '../config/units';
import { parseSnapshotName } from '../snapshots/names';
import type { Manifest } from './schema';

/**
 * What a manifest read from the bucket must also satisfy before anything acts on it.
 * The bucket is not trusted: a name becomes a path under the restore target, a chunk
 * key becomes a GET, a part's size a buffer. So, beyond the schema:
 * - the subvolume is a name, and the snapshot's name is one of ours for that subvolume
 *   and kind (no `/`, no `..`: `btrfs receive` creates it under the target);
 * - every chunk key lies under the manifest's own directory, in `chunks/`;
 * - parts are numbered 1..n, at most S3's 10,000 per chunk, each within S3's 5 GiB,
 *   and `part_size` too;
 * - chunk sizes sum to `stored_bytes`, their plaintext sizes to `total_bytes`, and
 *   each chunk's parts to its size; an uncompressed, unencrypted chunk stores its
 *   plaintext as it is;
 * - the encoding and the private section agree (sealed exactly when encrypted, to at
 *   least one recipient; a clear one has one plaintext hash per chunk).
 * Returns the first problem, or undefined.
 */
export function manifestContentProblem(key: string, manifest: Manifest): string | undefined {
  const { subvolume } = manifest;
  if (!isName(subvolume)) return `subvolume ${JSON.stringify(subvolume)} is not a subvolume name`;
  const snapshot = parseSnapshotName(manifest.snapshot.name);
  if (snapshot?.subvolume !== subvolume || snapshot.kind !== manifest.kind)
    return `snapshot.name ${JSON.stringify(manifest.snapshot.name)} is not of the form ${subvolume}__<UTC time>__${manifest.kind}`;
  if (manifest.part_size > S3_LIMITS.maxPartSize) return `part_size ${manifest.part_size} exceeds S3's 5 GiB part limit`;

  const chunksDir = `${key.slice(0, key.lastIndexOf('/') + 1)}chunks/`;
  for (const chunk of manifest.chunks) {
    const rest = chunk.key.startsWith(chunksDir) ? chunk.key.slice(chunksDir.length) : undefined;
    if (key.lastIndexOf('/') < 0 || rest === undefined || !isName(rest))
      return `chunk key ${JSON.stringify(chunk.key)} is not under the manifest's own ${chunksDir}`;
    const problem = partsProblem(chunk);
    if (problem !== undefined) return problem;
  }
  const chunkTotal = manifest.chunks.reduce((sum, chunk) => sum + chunk.size, 0);
  if (chunkTotal !== manifest.stored_bytes) return `chunk sizes sum to ${chunkTotal}, stored_bytes is ${manifest.stored_bytes}`;
  const plainTotal = manifest.chunks.reduce((sum, chunk) => sum + chunk.plain_size, 0);
  if (plainTotal !== manifest.total_bytes) return `chunk plain_size values sum to ${plainTotal}, total_bytes is ${manifest.total_bytes}`;
  return encodingProblem(manifest);
}

function encodingProblem(manifest: Manifest): string | undefined {
  const { encoding } = manifest;
  const plain = encoding.compression === 'none' && encoding.encryption === 'none';
  const stretched = manifest.chunks.find((chunk) => plain && chunk.plain_size !== chunk.size);
  if (stretched !== undefined) return `${stretched.key} is neither compressed nor encrypted, yet its size differs from its plain_size`;
  if ((encoding.encryption === 'age') !== 'age' in manifest.private)
    return `encoding.encryption is ${encoding.encryption}, but the private section is ${'age' in manifest.private ? 'sealed' : 'clear'}`;
  if ((encoding.encryption === 'age') !== encoding.recipients.length > 0)
    return `encoding.recipients must list the age recipients exactly when encoding.encryption is age`;
  if ('clear' in manifest.private && manifest.private.clear.chunk_sha256.length !== manifest.chunks.length)
    return `private.clear.chunk_sha256 has ${manifest.private.clear.chunk_sha256.length} hashes for ${manifest.chunks.length} chunks`;
  return undefined;
}

function partsProblem(chunk: Manifest['chunks'][number]): string | undefined {
  if (chunk.parts.length > S3_LIMITS.maxParts) return `${chunk.key} has ${chunk.parts.length} parts; S3 allows ${S3_LIMITS.maxParts}`;
  for (const [index, part] of chunk.parts.entries()) {
    if (part.number !== index + 1) return `parts of ${chunk.key} are not numbered 1 to ${chunk.parts.length} in order`;
    if (part.size > S3_LIMITS.maxPartSize) return `part ${part.number} of ${chunk.key} is ${part.size} bytes; S3 parts are at most 5 GiB`;
  }
  const partTotal = chunk.parts.reduce((sum, part) => sum + part.size, 0);
  if (partTotal !== chunk.size) return `parts of ${chunk.key} sum to ${partTotal}, its size is ${chunk.size}`;
  return undefined;
}

/** One path component: not empty, `.` or `..`, and without `/` or control characters. */
function isName(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  return text !== '' && text !== '.' && text !== '..' && !/[/\u0000-\u001f\u007f]/.test(text);
}
