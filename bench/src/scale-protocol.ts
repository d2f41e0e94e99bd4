// What the scale runner (long-run.ts, scale-run.ts) and the uploader process
// (long-run-child.ts) pass each other: the request as JSON in argv, the report over IPC.
import type { SinkLayout } from './scale-config';

export interface ChildRequest extends SinkLayout {
  readonly endpoint: string;
  readonly sizeBytes: number;
}

/** Heap in use after a full collection, against the parts acknowledged by then. */
export interface HeapPoint {
  readonly parts: number;
  readonly heapBytes: number;
}

export type ChildReport =
  | {
      readonly kind: 'done';
      readonly totalBytes: number;
      readonly partCount: number;
      readonly chunkCount: number;
      readonly partSizeBytes: number;
      readonly concurrency: number;
      readonly retries: number;
      /** From the first byte asked of the source to the result. */
      readonly uploadSeconds: number;
      /** CPU before the upload started (Node, the SDK, our packages, the config) and in all. */
      readonly startCpuSeconds: number;
      readonly cpuSeconds: number;
      readonly peakRssBytes: number;
      readonly heap: readonly HeapPoint[];
    }
  | { readonly kind: 'failed'; readonly message: string };

/** What arrives over IPC is a report of this file's making; this checks it is one. */
export function isChildReport(value: unknown): value is ChildReport {
  if (typeof value !== 'object' || value === null) return false;
  const kind: unknown = Reflect.get(value, 'kind');
  if (kind === 'failed') return typeof Reflect.get(value, 'message') === 'string';
  return kind === 'done' && typeof Reflect.get(value, 'totalBytes') === 'number' && Array.isArray(Reflect.get(value, 'heap'));
}

/** The request long-run.ts passes as JSON in argv[2]. */
export function parseChildRequest(text: string): ChildRequest {
  const value: unknown = JSON.parse(text);
  const field = (name: string): unknown => (typeof value === 'object' && value !== null ? Reflect.get(value, name) : undefined);
  const count = (name: string) => {
    const number = field(name);
    if (number === undefined) return undefined;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number <= 0) throw new Error(`${name} must be a positive integer`);
    return number;
  };
  const endpoint = field('endpoint');
  const sizeBytes = count('sizeBytes');
  const chunkSizeBytes = count('chunkSizeBytes');
  if (typeof endpoint !== 'string' || sizeBytes === undefined || chunkSizeBytes === undefined)
    throw new Error('endpoint, sizeBytes and chunkSizeBytes are required');
  const partSizeBytes = count('partSizeBytes');
  const concurrency = count('concurrency');
  return {
    endpoint,
    sizeBytes,
    chunkSizeBytes,
    ...(partSizeBytes === undefined ? {} : { partSizeBytes }),
    ...(concurrency === undefined ? {} : { concurrency }),
  };
}
