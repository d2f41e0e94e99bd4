import * as v from 'valibot';
import { BtrfsToS3Error } from '../errors';
import { ExitCode } from '../exit-codes';
import { manifestContentProblem } from './untrusted';
import { type Manifest, MANIFEST_VERSION, ManifestSchema, type Pointer, POINTER_VERSION, PointerSchema } from './schema';

/** A manifest or pointer object that cannot be used; names the key. */
export class FormatError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Fatal });
  }
}

function parseDocument<T>(key: string, what: string, text: string, schema: v.GenericSchema<unknown, T>, knownVersion: number): T {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${what} ${key} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const version = typeof document === 'object' && document !== null && 'version' in document ? document.version : undefined;
  if (version !== knownVersion) {
    throw new FormatError(`${what} ${key} has version ${JSON.stringify(version)}; this btrfs-to-s3 reads version ${knownVersion} only`);
  }
  const result = v.safeParse(schema, document);
  if (!result.success) {
    const problems = result.issues.map((issue) => `${v.getDotPath(issue) ?? '(top level)'}: ${issue.message}`).join('; ');
    throw new FormatError(`${what} ${key} is malformed: ${problems}`);
  }
  return result.output;
}

/** Parses and checks a manifest read from `key`: the schema, then what the bucket must not be trusted with (manifestContentProblem). */
export function parseManifest(key: string, text: string): Manifest {
  const manifest = parseDocument(key, 'manifest', text, ManifestSchema, MANIFEST_VERSION);
  const problem = manifestContentProblem(key, manifest);
  if (problem !== undefined) throw new FormatError(`manifest ${key} is malformed: ${problem}`);
  return manifest;
}

export function parsePointer(key: string, text: string): Pointer {
  return parseDocument(key, 'pointer', text, PointerSchema, POINTER_VERSION);
}

/** The manifest as published: stable key order, validated before it is written. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(v.parse(ManifestSchema, manifest), null, 2)}\n`;
}

export function serializePointer(pointer: Pointer): string {
  return `${JSON.stringify(v.parse(PointerSchema, pointer), null, 2)}\n`;
}
