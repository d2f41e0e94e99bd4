// A fast local S3 sink for the scale benchmark (`pnpm bench:scale`): an HTTP server that
// speaks just enough S3 (path-style) for the chunked uploader, checks every part's bytes
// against the SHA-256 they were signed with, counts them and throws them away. Any SigV4
// signature is accepted: it checks data, not identity. What it keeps per upload is a few
// numbers per part, so it can take terabytes.
//
// One deviation from S3: ETags are the first 128 bits of the part's SHA-256, not its MD5,
// to spare the sink a second hash pass on the two cores it shares with the uploader under
// test. The uploader treats ETags as opaque (it compares UploadPart's with ListParts').
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CompletedPartEntry, document, elements, errorDocument, parseCompleteBody } from './sink-xml';

export interface SinkOptions {
  /** Every part but an object's last must be at least this big (S3: 5 MiB); tests lower it. */
  readonly minPartSizeBytes?: number;
  /** Parts per ListParts page (S3: at most 1,000). */
  readonly maxPartsPerPage?: number;
}

export interface SinkStats {
  readonly uploadsCreated: number;
  /** Body bytes of UploadPart requests received so far, counted as they arrive. */
  readonly bytesReceived: number;
  /** Parts whose bytes matched their signed hash (and checksum header), and their bytes. */
  readonly partsAccepted: number;
  readonly bytesAccepted: number;
  readonly uploadsCompleted: number;
  readonly uploadsAborted: number;
  /** Requests answered with an S3 error, by error code. */
  readonly rejected: Readonly<Record<string, number>>;
}

export interface SinkObject {
  readonly size: number;
  readonly etag: string;
  readonly parts: number;
}

export interface Sink {
  /** http://127.0.0.1:PORT, for `s3.endpoint` with `path_style = true`. */
  readonly endpoint: string;
  stats(): SinkStats;
  /** Completed objects by `bucket/key`. */
  object(bucket: string, key: string): SinkObject | undefined;
  close(): Promise<void>;
}

interface StoredPart {
  readonly size: number;
  readonly etag: string;
  readonly sha256: Buffer;
  readonly lastModified: Date;
}

interface Upload {
  readonly bucket: string;
  readonly key: string;
  readonly checksumSha256: boolean;
  readonly parts: Map<number, StoredPart>;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const MAX_PART_NUMBER = 10_000;
const MAX_COMPLETE_BODY = 4 * 1024 * 1024;

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const sink = new S3Sink(options.minPartSizeBytes ?? 5 * 1024 * 1024, options.maxPartsPerPage ?? 1000);
  const server = createServer((request, response) => sink.serve(request, response));
  // Longer than the SDK keeps idle sockets, so the server never closes one the client is about to reuse.
  server.keepAliveTimeout = 120_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => sink.stats(),
    object: (bucket, key) => sink.objects.get(`${bucket}/${key}`),
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
    server.closeAllConnections();
  });
}

class S3Sink {
  private readonly uploads = new Map<string, Upload>();
  readonly objects = new Map<string, SinkObject>();
  private counts = { uploadsCreated: 0, bytesReceived: 0, partsAccepted: 0, bytesAccepted: 0, uploadsCompleted: 0, uploadsAborted: 0 };
  private readonly rejected: Record<string, number> = {};

  constructor(
    private readonly minPartSizeBytes: number,
    private readonly maxPartsPerPage: number,
  ) {}

  stats(): SinkStats {
    return { ...this.counts, rejected: { ...this.rejected } };
  }

  serve(request: IncomingMessage, response: ServerResponse): void {
    this.route(request, response).catch((error: unknown) => {
      const failure = error instanceof S3Error ? error : new S3Error(500, 'InternalError', String(error));
      this.rejected[failure.code] = (this.rejected[failure.code] ?? 0) + 1;
      if (response.headersSent || request.socket.destroyed) {
        response.destroy();
        return;
      }
      // Whatever of the body is still coming is read and dropped, so the connection stays usable.
      request.resume();
      const body = request.method === 'HEAD' ? '' : errorDocument(failure.code, failure.message, request.url ?? '');
      response.writeHead(failure.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const authorization = request.headers.authorization ?? '';
    if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) throw new S3Error(403, 'AccessDenied', 'requests must carry a SigV4 signature');
    const url = new URL(request.url ?? '/', 'http://sink');
    const slash = url.pathname.indexOf('/', 1);
    if (slash < 0) throw new S3Error(501, 'NotImplemented', 'the sink serves object requests (path-style /bucket/key) only');
    const bucket = decodeURIComponent(url.pathname.slice(1, slash));
    const key = decodeURIComponent(url.pathname.slice(slash + 1));
    const query = url.searchParams;
    const uploadId = query.get('uploadId');
    const method = request.method ?? '';
    if (method === 'POST' && query.has('uploads')) return this.create(request, response, bucket, key);
    if (method === 'HEAD' && uploadId === null) return this.head(response, bucket, key);
    if (uploadId === null) throw new S3Error(501, 'NotImplemented', `the sink does not serve ${method} ${url.pathname}${url.search}`);
    const upload = this.upload(uploadId, bucket, key);
    if (method === 'PUT' && query.has('partNumber')) return this.uploadPart(request, response, upload, query.get('partNumber') ?? '');
    if (method === 'GET') return this.listParts(response, upload, uploadId, query);
    if (method === 'POST') return this.complete(request, response, upload, uploadId);
    if (method === 'DELETE') {
      this.uploads.delete(uploadId);
      this.counts.uploadsAborted += 1;
      response.writeHead(204).end();
      return;
    }
    throw new S3Error(501, 'NotImplemented', `the sink does not serve ${method} with an uploadId`);
  }

  private upload(uploadId: string, bucket: string, key: string): Upload {
    const upload = this.uploads.get(uploadId);
    if (upload === undefined || upload.bucket !== bucket || upload.key !== key)
      throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist.');
    return upload;
  }

  private create(request: IncomingMessage, response: ServerResponse, bucket: string, key: string): void {
    const algorithm = request.headers['x-amz-checksum-algorithm'];
    if (algorithm !== undefined && algorithm !== 'SHA256')
      throw new S3Error(501, 'NotImplemented', `the sink checks SHA256 checksums only, not ${String(algorithm)}`);
    const uploadId = randomUUID();
    this.uploads.set(uploadId, { bucket, key, checksumSha256: algorithm === 'SHA256', parts: new Map() });
    this.counts.uploadsCreated += 1;
    const body = document('InitiateMultipartUploadResult', elements({ Bucket: bucket, Key: key, UploadId: uploadId }));
    const headers = algorithm === undefined ? {} : { 'x-amz-checksum-algorithm': algorithm };
    response.writeHead(200, { ...headers, 'content-type': 'application/xml' }).end(body);
  }

  private async uploadPart(request: IncomingMessage, response: ServerResponse, upload: Upload, partNumberText: string): Promise<void> {
    const partNumber = Number(partNumberText);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER)
      throw new S3Error(400, 'InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`);
    const signed = request.headers['x-amz-content-sha256'];
    // Only signed payloads: UNSIGNED-PAYLOAD would leave nothing to check, and aws-chunked would need decoding.
    if (typeof signed !== 'string' || !HEX_SHA256.test(signed))
      throw new S3Error(400, 'InvalidRequest', `the sink takes parts signed with their SHA-256; x-amz-content-sha256 is ${String(signed)}`);
    const checksum = request.headers['x-amz-checksum-sha256'];
    const hash = createHash('sha256');
    let size = 0;
    for await (const piece of request as AsyncIterable<Buffer>) {
      hash.update(piece);
      size += piece.length;
      this.counts.bytesReceived += piece.length;
    }
    const sha256 = hash.digest();
    if (sha256.toString('hex') !== signed)
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    if (checksum !== undefined && checksum !== sha256.toString('base64'))
      throw new S3Error(400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
    const etag = `"${sha256.subarray(0, 16).toString('hex')}"`;
    upload.parts.set(partNumber, { size, etag, sha256, lastModified: new Date() });
    this.counts.partsAccepted += 1;
    this.counts.bytesAccepted += size;
    const headers = upload.checksumSha256 ? { 'x-amz-checksum-sha256': sha256.toString('base64') } : {};
    response.writeHead(200, { ...headers, etag }).end();
  }

  private listParts(response: ServerResponse, upload: Upload, uploadId: string, query: URLSearchParams): void {
    const marker = Number(query.get('part-number-marker') ?? 0);
    const maxParts = Math.min(Number(query.get('max-parts') ?? this.maxPartsPerPage), this.maxPartsPerPage);
    if (!Number.isInteger(marker) || marker < 0 || !Number.isInteger(maxParts) || maxParts < 1)
      throw new S3Error(400, 'InvalidArgument', 'part-number-marker and max-parts must be whole numbers');
    const after = [...upload.parts.entries()].filter(([number]) => number > marker).sort(([a], [b]) => a - b);
    const page = after.slice(0, maxParts);
    const last = page.at(-1)?.[0] ?? marker;
    const parts = page.map(([number, part]) =>
      elements({
        PartNumber: number,
        LastModified: part.lastModified.toISOString(),
        ETag: part.etag,
        Size: part.size,
        ChecksumSHA256: upload.checksumSha256 ? part.sha256.toString('base64') : undefined,
      }),
    );
    const head = elements({
      Bucket: upload.bucket,
      Key: upload.key,
      UploadId: uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: last,
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      ChecksumAlgorithm: upload.checksumSha256 ? 'SHA256' : undefined,
    });
    const body = document('ListPartsResult', head + parts.map((part) => `<Part>${part}</Part>`).join(''));
    response.writeHead(200, { 'content-type': 'application/xml' }).end(body);
  }

  private async complete(request: IncomingMessage, response: ServerResponse, upload: Upload, uploadId: string): Promise<void> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const piece of request as AsyncIterable<Buffer>) {
      length += piece.length;
      if (length > MAX_COMPLETE_BODY) throw new S3Error(400, 'MalformedXML', 'the CompleteMultipartUpload body is too large');
      chunks.push(piece);
    }
    const listed = parseCompleteBody(Buffer.concat(chunks).toString('utf8'));
    if (listed === undefined || listed.length === 0)
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    if (listed.some((entry, index) => index > 0 && entry.partNumber <= (listed[index - 1]?.partNumber ?? 0)))
      throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
    const parts = listed.map((entry, index) => this.checkListedPart(upload, entry, index === listed.length - 1));
    const size = parts.reduce((sum, part) => sum + part.size, 0);
    const etagHash = createHash('sha256');
    const checksumHash = createHash('sha256');
    for (const part of parts) {
      etagHash.update(Buffer.from(part.etag.replaceAll('"', ''), 'hex'));
      checksumHash.update(part.sha256);
    }
    const etag = `"${etagHash.digest('hex').slice(0, 32)}-${parts.length}"`;
    this.objects.set(`${upload.bucket}/${upload.key}`, { size, etag, parts: parts.length });
    this.uploads.delete(uploadId);
    this.counts.uploadsCompleted += 1;
    const body = document(
      'CompleteMultipartUploadResult',
      elements({
        Location: `/${upload.bucket}/${upload.key}`,
        Bucket: upload.bucket,
        Key: upload.key,
        ETag: etag,
        ChecksumSHA256: upload.checksumSha256 ? `${checksumHash.digest('base64')}-${parts.length}` : undefined,
      }),
    );
    response.writeHead(200, { 'content-type': 'application/xml' }).end(body);
  }

  /** S3's checks of one listed part: a part it holds, its ETag and checksum, and the minimum size. */
  private checkListedPart(upload: Upload, entry: CompletedPartEntry, last: boolean): StoredPart {
    const part = upload.parts.get(entry.partNumber);
    const invalid = (why: string) => new S3Error(400, 'InvalidPart', `part ${entry.partNumber}: ${why}`);
    if (part === undefined) throw invalid('the sink holds no such part');
    if (entry.etag.replaceAll('"', '') !== part.etag.replaceAll('"', '')) throw invalid("the ETag does not match the part's");
    if (upload.checksumSha256 && entry.checksumSha256 !== part.sha256.toString('base64'))
      throw invalid('the upload declared SHA256 checksums and this one is missing or differs');
    if (!last && part.size < this.minPartSizeBytes)
      throw new S3Error(
        400,
        'EntityTooSmall',
        `part ${entry.partNumber} holds ${part.size} bytes, below the ${this.minPartSizeBytes}-byte minimum`,
      );
    return part;
  }

  private head(response: ServerResponse, bucket: string, key: string): void {
    const object = this.objects.get(`${bucket}/${key}`);
    if (object === undefined) throw new S3Error(404, 'NotFound', 'no such object');
    response.writeHead(200, { 'content-length': object.size, etag: object.etag, 'last-modified': new Date().toUTCString() }).end();
  }
}
