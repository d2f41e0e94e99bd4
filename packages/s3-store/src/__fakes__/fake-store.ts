import {
  type ArchiveStatus,
  type HeadObjectCommandOutput,
  InvalidObjectState,
  type ObjectLockMode,
  NoSuchKey,
  NoSuchUpload,
  NotFound,
  ObjectAlreadyInActiveTierError,
  S3ServiceException,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

/** One stored object of a fake bucket. */
export interface FakeObject {
  bytes: Buffer;
  storageClass: StorageClass;
  /** Intelligent-Tiering's archive tiers; HeadObject reports it as S3 does. */
  archiveStatus?: ArchiveStatus;
  restore: 'none' | 'ongoing' | 'restored';
  /** Replaces the x-amz-restore header HeadObject reports, to stand in for a store that sends something odd. */
  restoreHeader?: string;
  /** What ListObjectsV2, HeadObject and GetObject report as LastModified. */
  lastModified: Date;
  /**
   * The quoted ETag the store reports. Left out, it is the MD5 of `bytes` as a single PUT's
   * is, computed when asked, so a test that flips a stored byte changes it too.
   */
  etag?: string;
  /** In a versioned fake (FakeVersions): this version's id; absent reads as `null`, as an object written before versioning. */
  versionId?: string;
  /** Object Lock retention, from the write or PutObjectRetention. */
  retention?: { mode: ObjectLockMode; retainUntil: Date };
}

/** The objects of one fake bucket by key: FakeS3, FakeObjectS3 and FakeS3Bucket can share one. */
export type FakeObjects = Map<string, FakeObject>;

export const md5Hex = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
export const etagOf = (object: FakeObject) => object.etag ?? `"${md5Hex(object.bytes)}"`;
export const unquote = (etag: string) => etag.replace(/^"(.*)"$/, '$1');

/** S3's ETag of a completed multipart upload: the MD5 of the parts' binary MD5s, then the part count. */
export function multipartEtag(parts: readonly Buffer[]): string {
  const digests = parts.map((part) => createHash('md5').update(part).digest());
  return `"${md5Hex(Buffer.concat(digests))}-${parts.length}"`;
}

/** S3 sorts keys by their UTF-8 bytes; JavaScript's `<` compares UTF-16 units, which orders U+E000-U+FFFF after astral characters. */
export const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export function newObject(bytes: Buffer, options: Partial<Omit<FakeObject, 'bytes'>> = {}): FakeObject {
  return { bytes, storageClass: 'STANDARD', restore: 'none', lastModified: new Date(), ...options };
}

/**
 * A FakeObjects map seen as buffers by key: FakeS3's `objects`, so multipart tests read and
 * plant objects as bytes while FakeS3Bucket's reads see the same objects.
 */
export class ObjectBytes {
  constructor(private readonly objects: FakeObjects) {}

  get size(): number {
    return this.objects.size;
  }

  get(key: string): Buffer | undefined {
    return this.objects.get(key)?.bytes;
  }

  has(key: string): boolean {
    return this.objects.has(key);
  }

  /** Stores `bytes` as a STANDARD object, as a single PUT would. */
  set(key: string, bytes: Buffer): this {
    this.objects.set(key, newObject(bytes));
    return this;
  }

  delete(key: string): boolean {
    return this.objects.delete(key);
  }

  keys(): IterableIterator<string> {
    return this.objects.keys();
  }
}

// The SDK raises these as their own classes (instanceof NoSuchKey works on a real answer), so the fake does too.
const MODELED: Record<string, new (options: { $metadata: { httpStatusCode: number }; message: string }) => S3ServiceException> = {
  InvalidObjectState,
  NoSuchKey,
  NoSuchUpload,
  NotFound,
  ObjectAlreadyInActiveTierError,
};

/** An S3 error response as the SDK raises it. */
export function s3Error(name: string, httpStatusCode: number, detail = 'from the fake'): S3ServiceException {
  const message = `${name} ${detail}`;
  const Modeled = MODELED[name];
  if (Modeled !== undefined) return new Modeled({ $metadata: { httpStatusCode }, message });
  return new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode }, message });
}

/** A request parameter the fake does not model: failing loudly beats answering as if it were absent. */
export const notModeled = (parameter: string) => s3Error('NotImplemented', 501, `: the fake does not model ${parameter}`);

function abortError(signal: AbortSignal): Error {
  const error = new Error(`Request aborted: ${String(signal.reason)}`);
  error.name = 'AbortError';
  return error;
}

/** Like the SDK's HTTP handler: an aborted signal fails the request at once. */
export async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  // As the SDK does, a request sent with a signal already aborted fails at once.
  if (signal.aborted) throw abortError(signal);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** A request body's bytes, copied (an HTTP request reads its body while it runs, not later). */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string' || body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof Readable) return buffer(body);
  throw s3Error('InvalidRequest', 400, ': the fake reads Buffer, Uint8Array, string and Readable bodies');
}

/** A GET body with the helpers the SDK mixes into its own (transformToString and the rest). */
export function sdkStream(body: Readable) {
  return Object.assign(body, {
    transformToByteArray: async () => new Uint8Array(await buffer(body)),
    transformToString: async (encoding?: string) => new TextDecoder(encoding).decode(await buffer(body)),
    transformToWebStream: () => Readable.toWeb(body),
  });
}

const EXPIRY = 'Mon, 21 Dec 2099 00:00:00 GMT';

type ObjectHeaders = Pick<
  HeadObjectCommandOutput,
  | 'ETag'
  | 'LastModified'
  | 'AcceptRanges'
  | 'StorageClass'
  | 'ArchiveStatus'
  | 'Restore'
  | 'VersionId'
  | 'ObjectLockMode'
  | 'ObjectLockRetainUntilDate'
>;
const RESTORE_HEADER = { none: undefined, ongoing: 'ongoing-request="true"', restored: `ongoing-request="false", expiry-date="${EXPIRY}"` };

/** The headers HeadObject and GetObject share. */
export function objectHeaders(object: FakeObject): ObjectHeaders {
  const restore = object.restoreHeader ?? RESTORE_HEADER[object.restore];
  return {
    ETag: etagOf(object),
    LastModified: object.lastModified,
    AcceptRanges: 'bytes',
    // S3 leaves out x-amz-storage-class for STANDARD.
    ...(object.storageClass === 'STANDARD' ? {} : { StorageClass: object.storageClass }),
    ...(object.archiveStatus === undefined ? {} : { ArchiveStatus: object.archiveStatus }),
    ...(restore === undefined ? {} : { Restore: restore }),
    ...(object.versionId === undefined ? {} : { VersionId: object.versionId }),
    ...(object.retention === undefined
      ? {}
      : { ObjectLockMode: object.retention.mode, ObjectLockRetainUntilDate: object.retention.retainUntil }),
  };
}

/** HeadObject's answer: 404 NotFound (no body, so no S3 error code) for a missing key. */
export function headObject(object: FakeObject | undefined): HeadObjectCommandOutput {
  if (object === undefined) throw s3Error('NotFound', 404);
  return { $metadata: { httpStatusCode: 200 }, ContentLength: object.bytes.length, ...objectHeaders(object) };
}

/** The first and last byte a GET returns, and whether it is a 206 answer. */
export interface Selected {
  readonly first: number;
  readonly last: number;
  readonly partial: boolean;
}

/**
 * The bytes a Range header selects, as S3 reads it (RFC 9110): `bytes=a-b` (clamped to the
 * end), `bytes=a-` and `bytes=-n`. One that selects nothing is 416 InvalidRange; one S3
 * cannot parse is ignored, so the whole object comes back with 200.
 */
export function selectRange(range: string | undefined, size: number): Selected {
  const whole = { first: 0, last: size - 1, partial: false };
  const match = range === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(range);
  if (match === null) return whole;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return whole;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) throw s3Error('InvalidRange', 416);
    return { first: Math.max(0, size - suffix), last: size - 1, partial: true };
  }
  const first = Number(from);
  if (to !== '' && Number(to) < first) return whole;
  if (first >= size) throw s3Error('InvalidRange', 416);
  return { first, last: to === '' ? size - 1 : Math.min(Number(to), size - 1), partial: true };
}
