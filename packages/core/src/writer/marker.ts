import * as v from 'valibot';
import { FormatError } from '../manifest/parse';
import { WriterSchema, type Writer } from './writer';

/**
 * `<backup dir>/writer.json`: written before a run's first upload, so a run in progress
 * (no manifest yet, maybe no current.json at all on a first full) names its writer.
 * Multipart uploads carry no owner a listing shows; this marker is how another host
 * tells that the directory is not its own, and keeps its hands off it.
 */
export const WriterMarkerSchema = v.strictObject({
  version: v.literal(1),
  writer: WriterSchema,
  started_at: v.pipe(v.string(), v.isoTimestamp()),
});

export type WriterMarker = v.InferOutput<typeof WriterMarkerSchema>;

export function writerMarkerKey(backupDir: string): string {
  return `${backupDir}/writer.json`;
}

export function serializeWriterMarker(writer: Writer, startedAt: Date): string {
  return `${JSON.stringify(v.parse(WriterMarkerSchema, { version: 1, writer, started_at: startedAt.toISOString() }), null, 2)}\n`;
}

/** The marker's writer; a marker that does not parse is a FormatError naming the key. */
export function parseWriterMarker(key: string, text: string): WriterMarker {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FormatError(`writer marker ${key} is not valid JSON`);
  }
  const result = v.safeParse(WriterMarkerSchema, value);
  if (!result.success) throw new FormatError(`writer marker ${key} is malformed: ${result.issues[0]?.message ?? ''}`);
  return result.output;
}
