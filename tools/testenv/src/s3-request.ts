import { RESTORE_TIERS, type RestoreTier } from './archive-state';

/** The object operations the archive proxy watches; everything else is `Other` and passes untouched. */
export type S3Operation =
  | {
      readonly kind: 'GetObject' | 'HeadObject' | 'PutObject' | 'CreateMultipartUpload' | 'DeleteObject' | 'RestoreObject';
      readonly bucket: string;
      readonly key: string;
    }
  | {
      readonly kind: 'CompleteMultipartUpload' | 'AbortMultipartUpload';
      readonly bucket: string;
      readonly key: string;
      readonly uploadId: string;
    }
  | { readonly kind: 'Other' };

// Object subresources that are separate operations (GetObjectAcl, PutObjectTagging, ...).
const SUBRESOURCES = ['acl', 'tagging', 'attributes', 'legal-hold', 'retention', 'torrent', 'select', 'renameObject'];

const OTHER: S3Operation = { kind: 'Other' };

/** Classifies a path-style request (`/bucket/key?query`) by method and query. */
export function classify(method: string | undefined, url: string | undefined): S3Operation {
  const parsed = new URL(url ?? '/', 'http://proxy.invalid');
  const slash = parsed.pathname.indexOf('/', 1);
  if (slash < 0 || slash === parsed.pathname.length - 1) return OTHER;
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(parsed.pathname.slice(1, slash));
    key = decodeURIComponent(parsed.pathname.slice(slash + 1));
  } catch {
    return OTHER;
  }
  const query = parsed.searchParams;
  if (SUBRESOURCES.some((name) => query.has(name))) return OTHER;
  const uploadId = query.get('uploadId');
  const target = { bucket, key };
  switch (method) {
    case 'GET':
      return uploadId === null ? { kind: 'GetObject', ...target } : OTHER;
    case 'HEAD':
      return { kind: 'HeadObject', ...target };
    case 'PUT':
      return uploadId === null ? { kind: 'PutObject', ...target } : OTHER;
    case 'DELETE':
      return uploadId === null ? { kind: 'DeleteObject', ...target } : { kind: 'AbortMultipartUpload', ...target, uploadId };
    case 'POST':
      if (query.has('restore')) return { kind: 'RestoreObject', ...target };
      if (query.has('uploads')) return { kind: 'CreateMultipartUpload', ...target };
      return uploadId === null ? OTHER : { kind: 'CompleteMultipartUpload', ...target, uploadId };
    default:
      return OTHER;
  }
}

export interface S3ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly key?: string;
  readonly storageClass?: string;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** An S3 `<Error>` document, as the SDK's error deserializer reads it. */
export function errorXml(error: S3ErrorBody, requestId: string): string {
  const fields: [string, string | undefined][] = [
    ['Code', error.code],
    ['Message', error.message],
    ['StorageClass', error.storageClass],
    ['Key', error.key],
    ['RequestId', requestId],
  ];
  const inner = fields.map(([name, value]) => (value === undefined ? '' : `<${name}>${escapeXml(value)}</${name}>`)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${inner}</Error>`;
}

export type RestoreRequestBody =
  { readonly ok: true; readonly tier: RestoreTier; readonly days: number } | { readonly ok: false; readonly error: S3ErrorBody };

function isTier(value: string): value is RestoreTier {
  return RESTORE_TIERS.some((tier) => tier === value);
}

/** Reads `Days` and `GlacierJobParameters/Tier` (default Standard) from a RestoreObject body. */
export function parseRestoreRequest(xml: string): RestoreRequestBody {
  const days = /<Days>\s*(-?\d+)\s*<\/Days>/.exec(xml)?.[1];
  if (days === undefined) {
    return {
      ok: false,
      error: {
        code: 'MalformedXML',
        message: 'The XML you provided was not well-formed or did not validate against our published schema (Days is required)',
      },
    };
  }
  if (Number(days) < 1) return { ok: false, error: { code: 'InvalidArgument', message: 'Days must be a positive integer' } };
  const jobParameters = /<GlacierJobParameters>([\s\S]*?)<\/GlacierJobParameters>/.exec(xml)?.[1] ?? '';
  const tier = /<Tier>\s*([A-Za-z]+)\s*<\/Tier>/.exec(jobParameters)?.[1] ?? 'Standard';
  if (!isTier(tier)) return { ok: false, error: { code: 'MalformedXML', message: `Unknown retrieval tier ${tier}` } };
  return { ok: true, tier, days: Number(days) };
}

/** S3 URI-encodes each key segment: everything but A-Z a-z 0-9 - . _ ~ (and `/` between segments). */
export function objectPath(bucket: string, key: string): string {
  const encode = (segment: string) =>
    encodeURIComponent(segment).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `/${encode(bucket)}/${key.split('/').map(encode).join('/')}`;
}
