import { createS3Client, S3Bucket, uploadOptionsFromConfig } from '@org/btrfs-s3-store';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { chunkKeyFor, SINK_BUCKET, SINK_CREDENTIALS, sinkConfig } from './scale-config';
import { type Sink, startSink } from './sink';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const SIGNED = { authorization: 'AWS4-HMAC-SHA256 Credential=sink/20260101/us-east-1/s3/aws4_request, Signature=00' };

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function call(
  sink: Sink,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body: Buffer = Buffer.alloc(0),
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${sink.endpoint}${path}`, { method, headers: { ...headers, 'content-length': body.length } }, (res) => {
      const pieces: Buffer[] = [];
      res.on('data', (piece: Buffer) => pieces.push(piece));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(pieces).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function createUpload(sink: Sink, key: string, headers: Record<string, string> = {}): Promise<string> {
  const reply = await call(sink, 'POST', `/b/${key}?uploads`, { ...SIGNED, ...headers });
  const uploadId = /<UploadId>(.*)<\/UploadId>/.exec(reply.body)?.[1];
  if (uploadId === undefined) throw new Error(`no UploadId in ${reply.body}`);
  return uploadId;
}

function putPart(sink: Sink, key: string, uploadId: string, partNumber: number, body: Buffer, headers: Record<string, string> = {}) {
  const signed = { ...SIGNED, 'x-amz-content-sha256': sha256(body).toString('hex'), ...headers };
  return call(sink, 'PUT', `/b/${key}?partNumber=${partNumber}&uploadId=${uploadId}`, signed, body);
}

function completeBody(parts: ReadonlyArray<{ number: number; etag: string }>): Buffer {
  const entries = parts.map((part) => `<Part><PartNumber>${part.number}</PartNumber><ETag>${part.etag}</ETag></Part>`);
  return Buffer.from(`<CompleteMultipartUpload>${entries.join('')}</CompleteMultipartUpload>`);
}

describe('the S3 sink', () => {
  let sink: Sink;
  const saved = { ...process.env };

  beforeAll(() => Object.assign(process.env, SINK_CREDENTIALS));
  afterAll(() => {
    for (const name of Object.keys(SINK_CREDENTIALS)) delete process.env[name];
    Object.assign(process.env, saved);
  });
  beforeEach(async () => {
    sink = await startSink({ maxPartsPerPage: 2 });
  });
  afterEach(() => sink.close());

  it('takes a three-chunk upload from the real client, checking every part and paging ListParts', async () => {
    const data = randomBytes(30 * MiB);
    const config = sinkConfig(sink.endpoint, { chunkSizeBytes: 12 * MiB, partSizeBytes: 5 * MiB, concurrency: 2 });
    const client = createS3Client(config.s3);
    try {
      const pieces = Array.from({ length: 30 * 16 }, (_, index) => data.subarray(index * 64 * 1024, (index + 1) * 64 * 1024));
      const result = await new S3Bucket(client, config.s3).uploadChunkedStream(
        { source: Readable.from(pieces), keyForChunk: chunkKeyFor, storageClass: config.s3.storage_class_chunks },
        uploadOptionsFromConfig(config),
      );
      expect(result.chunks.map((chunk) => chunk.size)).toEqual([12 * MiB, 12 * MiB, 6 * MiB]);
      expect(result.streamSha256).toBe(sha256(data).toString('hex'));
      expect([0, 1, 2].map((index) => sink.object(SINK_BUCKET, chunkKeyFor(index))?.size)).toEqual([12 * MiB, 12 * MiB, 6 * MiB]);
      expect(sink.object(SINK_BUCKET, chunkKeyFor(0))?.etag).toBe(`"${result.chunks[0]?.etag}"`);
      expect(sink.stats()).toEqual({
        uploadsCreated: 3,
        bytesReceived: 30 * MiB,
        partsAccepted: 3 + 3 + 2,
        bytesAccepted: 30 * MiB,
        uploadsCompleted: 3,
        uploadsAborted: 0,
        rejected: {},
      });
    } finally {
      client.destroy();
    }
  });

  it('is told by the real client to abort the upload when the source fails', async () => {
    const config = sinkConfig(sink.endpoint, { chunkSizeBytes: 12 * MiB, partSizeBytes: 5 * MiB });
    const client = createS3Client(config.s3);
    let partUploaded = () => undefined as void;
    const firstPart = new Promise<void>((resolve) => (partUploaded = resolve));
    async function* failing() {
      yield randomBytes(6 * MiB);
      await firstPart;
      throw new Error('btrfs send died');
    }
    try {
      const upload = new S3Bucket(client, config.s3).uploadChunkedStream(
        { source: Readable.from(failing()), keyForChunk: chunkKeyFor, storageClass: config.s3.storage_class_chunks },
        { ...uploadOptionsFromConfig(config), onProgress: () => partUploaded() },
      );
      await expect(upload).rejects.toThrow(/btrfs send died/);
      expect(sink.stats()).toMatchObject({ uploadsCreated: 1, uploadsAborted: 1, uploadsCompleted: 0 });
    } finally {
      client.destroy();
    }
  });

  it('refuses a part whose bytes differ from the SHA-256 it was signed with, or from its checksum header', async () => {
    const uploadId = await createUpload(sink, 'k', { 'x-amz-checksum-algorithm': 'SHA256' });
    const body = randomBytes(1024);
    const otherHash = sha256(Buffer.from('other'));
    const wrongSigned = await putPart(sink, 'k', uploadId, 1, body, { 'x-amz-content-sha256': otherHash.toString('hex') });
    expect(wrongSigned.status).toBe(400);
    expect(wrongSigned.body).toContain('<Code>XAmzContentSHA256Mismatch</Code>');
    const wrongChecksum = await putPart(sink, 'k', uploadId, 1, body, { 'x-amz-checksum-sha256': otherHash.toString('base64') });
    expect(wrongChecksum.body).toContain('<Code>BadDigest</Code>');
    const unsigned = await putPart(sink, 'k', uploadId, 1, body, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(unsigned.body).toContain('<Code>InvalidRequest</Code>');
    expect(sink.stats()).toMatchObject({ partsAccepted: 0, rejected: { XAmzContentSHA256Mismatch: 1, BadDigest: 1, InvalidRequest: 1 } });

    const right = await putPart(sink, 'k', uploadId, 1, body, { 'x-amz-checksum-sha256': sha256(body).toString('base64') });
    expect(right.status).toBe(200);
    expect(right.headers.etag).toBe(`"${sha256(body).subarray(0, 16).toString('hex')}"`);
    expect(right.headers['x-amz-checksum-sha256']).toBe(sha256(body).toString('base64'));
  });

  it('lists parts in pages with sizes, ETags and checksums', async () => {
    const uploadId = await createUpload(sink, 'k', { 'x-amz-checksum-algorithm': 'SHA256' });
    const bodies = [3, 1, 2].map((size) => randomBytes(size * 100));
    for (const [index, body] of bodies.entries()) await putPart(sink, 'k', uploadId, index + 1, body);
    const first = await call(sink, 'GET', `/b/k?uploadId=${uploadId}`, SIGNED);
    expect(first.body).toContain('<IsTruncated>true</IsTruncated><ChecksumAlgorithm>SHA256</ChecksumAlgorithm>');
    expect(first.body).toContain('<NextPartNumberMarker>2</NextPartNumberMarker>');
    expect([...first.body.matchAll(/<Size>(\d+)<\/Size>/g)].map((match) => match[1])).toEqual(['300', '100']);
    const second = await call(sink, 'GET', `/b/k?uploadId=${uploadId}&part-number-marker=2`, SIGNED);
    expect(second.body).toContain('<IsTruncated>false</IsTruncated>');
    expect(second.body).toContain(`<ChecksumSHA256>${sha256(bodies[2] ?? Buffer.alloc(0)).toString('base64')}</ChecksumSHA256>`);
    expect(second.body).toContain(
      `<ETag>&quot;${sha256(bodies[2] ?? Buffer.alloc(0))
        .subarray(0, 16)
        .toString('hex')}&quot;</ETag>`,
    );
  });

  it('completes only with the parts it holds, in order, with their ETags, and then answers HeadObject', async () => {
    await sink.close();
    sink = await startSink({ minPartSizeBytes: 200 });
    const uploadId = await createUpload(sink, 'k');
    const etags = [];
    for (const [index, size] of [300, 100].entries()) {
      etags.push({ number: index + 1, etag: String((await putPart(sink, 'k', uploadId, index + 1, randomBytes(size))).headers.etag) });
    }
    const [one, two] = etags as [{ number: number; etag: string }, { number: number; etag: string }];
    const complete = (parts: ReadonlyArray<{ number: number; etag: string }>) =>
      call(sink, 'POST', `/b/k?uploadId=${uploadId}`, SIGNED, completeBody(parts));

    expect((await complete([two, one])).body).toContain('<Code>InvalidPartOrder</Code>');
    expect((await complete([one, { number: 3, etag: two.etag }])).body).toContain('<Code>InvalidPart</Code>');
    expect((await complete([one, { number: 2, etag: one.etag }])).body).toContain('<Code>InvalidPart</Code>');
    expect((await call(sink, 'HEAD', '/b/k', SIGNED)).status).toBe(404);

    const done = await complete([one, two]);
    expect(done.status).toBe(200);
    const etag = /<ETag>&quot;([0-9a-f]{32}-2)&quot;<\/ETag>/.exec(done.body)?.[1];
    expect(etag).toBeDefined();
    const head = await call(sink, 'HEAD', '/b/k', SIGNED);
    expect(head).toMatchObject({ status: 200, headers: { 'content-length': '400', etag: `"${etag}"` } });
    expect((await call(sink, 'GET', `/b/k?uploadId=${uploadId}`, SIGNED)).body).toContain('<Code>NoSuchUpload</Code>');
  });

  it('refuses to complete when a part but the last is below the minimum part size', async () => {
    await sink.close();
    sink = await startSink({ minPartSizeBytes: 200 });
    const uploadId = await createUpload(sink, 'k');
    const small = String((await putPart(sink, 'k', uploadId, 1, randomBytes(100))).headers.etag);
    const last = String((await putPart(sink, 'k', uploadId, 2, randomBytes(100))).headers.etag);
    const reply = await call(
      sink,
      'POST',
      `/b/k?uploadId=${uploadId}`,
      SIGNED,
      completeBody([
        { number: 1, etag: small },
        { number: 2, etag: last },
      ]),
    );
    expect(reply.body).toContain('<Code>EntityTooSmall</Code>');
  });

  it('forgets an aborted upload', async () => {
    const uploadId = await createUpload(sink, 'k');
    expect((await call(sink, 'DELETE', `/b/k?uploadId=${uploadId}`, SIGNED)).status).toBe(204);
    expect((await call(sink, 'DELETE', `/b/k?uploadId=${uploadId}`, SIGNED)).body).toContain('<Code>NoSuchUpload</Code>');
    expect(sink.stats().uploadsAborted).toBe(1);
  });

  it('refuses requests without a SigV4 signature, and requests it does not implement', async () => {
    expect((await call(sink, 'POST', '/b/k?uploads')).body).toContain('<Code>AccessDenied</Code>');
    expect((await call(sink, 'GET', '/b/k', SIGNED)).status).toBe(501);
  });
});
