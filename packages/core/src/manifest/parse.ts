import * as v from 'valibot';
import { BtrfsToS3Error } from '../errors';
import { ExitCode } from '../exit-codes';
import { manifestContentProblem } from './untrusted';
import {
  type Manifest,
  type ManifestDocument,
  ManifestSchema,
  type ManifestV1,
  ManifestV1Schema,
  type Pointer,
  POINTER_VERSION,
  PointerSchema,
  READABLE_MANIFEST_VERSIONS,
} from './schema';

/** A manifest or pointer object that cannot be used; names the key. */
export class FormatError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Fatal });
  }
}

function readJson(key: string, what: string, text: string, knownVersions: readonly number[]): { document: unknown; version: unknown } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${what} ${key} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const version = typeof document === 'object' && document !== null && 'version' in document ? document.version : undefined;
  if (typeof version !== 'number' || !knownVersions.includes(version)) {
    throw new FormatError(
      `${what} ${key} has version ${JSON.stringify(version)}; this btrfs-to-s3 reads version ${knownVersions.join(' and ')} only`,
    );
  }
  return { document, version };
}

function validate<T>(key: string, what: string, document: unknown, schema: v.GenericSchema<unknown, T>): T {
  const result = v.safeParse(schema, document);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? '(top level)'}: ${issue.message}`).join('; ');
    throw new FormatError(`${what} ${key} is malformed: ${problems}`);
  }
  return result.output;
}

/** Version 1 in version 2's shape: nothing compressed or encrypted, every plaintext fact in the clear. */
function fromV1(manifest: ManifestV1): Manifest {
  const { snapshot, restore, chunks, ...rest } = manifest;
  return {
    ...rest,
    snapshot: { name: snapshot.name, uuid: snapshot.uuid, parent_uuid: snapshot.parent_uuid },
    chunks: chunks.map((chunk) => ({ ...chunk, plain_size: chunk.size })),
    stored_bytes: manifest.total_bytes,
    encoding: { compression: 'none', encryption: 'none', recipients: [] },
    private: {
      clear: { snapshot_path: snapshot.path, stream_sha256: restore.stream_sha256, chunk_sha256: chunks.map((chunk) => chunk.sha256) },
    },
  };
}

/**
 * Parses and checks a manifest read from `key`, of any version this release reads,
 * into version 2's shape: the schema, then what the bucket must not be trusted with
 * (manifestContentProblem).
 */
export function parseManifest(key: string, text: string): Manifest {
  const { document, version } = readJson(key, 'manifest', text, READABLE_MANIFEST_VERSIONS);
  const manifest =
    version === 1 ? fromV1(validate(key, 'manifest', document, ManifestV1Schema)) : validate(key, 'manifest', document, ManifestSchema);
  const problem = manifestContentProblem(key, manifest);
  if (problem !== undefined) throw new FormatError(`manifest ${key} is malformed: ${problem}`);
  return manifest;
}

export function parsePointer(key: string, text: string): Pointer {
  return validate(key, 'pointer', readJson(key, 'pointer', text, [POINTER_VERSION]).document, PointerSchema);
}

/** The manifest as published: stable key order, validated before it is written. Version 1 only for tests of old backups. */
export function serializeManifest(manifest: ManifestDocument | ManifestV1): string {
  const document = manifest.version === 1 ? v.parse(ManifestV1Schema, manifest) : v.parse(ManifestSchema, manifest);
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function serializePointer(pointer: Pointer): string {
  return `${JSON.stringify(v.parse(PointerSchema, pointer), null, 2)}\n`;
}
