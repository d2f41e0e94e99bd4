import { S3Client } from '@aws-sdk/client-s3';
import type { HttpHandlerOptions } from '@smithy/types';
import { Readable } from 'node:stream';
import { randomData, sha256, sourceOf } from '../__fakes__/upload-harness';
import { uploadChunkedStream } from './upload-chunked-stream';

/** Answers every request as S3 would a PutObject or HeadObject of `size` bytes, keeping what was sent. */
class RecordingHandler {
  readonly requests: Array<{ method: string; path: string; headers: Record<string, string> }> = [];
  constructor(private readonly size: number) {}
  async handle(request: { method: string; path: string; headers: Record<string, string> }, _options?: HttpHandlerOptions) {
    this.requests.push({ method: request.method, path: request.path, headers: { ...request.headers } });
    const headers = { etag: '"0123456789abcdef0123456789abcdef"', 'content-length': String(request.method === 'HEAD' ? this.size : 0) };
    return { response: { statusCode: 200, reason: 'OK', headers, body: Readable.from([]) } };
  }
}

describe('the signed payload hash of what the uploader sends (SigV4 x-amz-content-sha256)', () => {
  it("signs a one-part chunk's PutObject with the SHA-256 recorded when its bytes were read", async () => {
    const data = randomData(3);
    const handler = new RecordingHandler(data.length);
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://s3.test',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
      requestHandler: handler,
      maxAttempts: 1,
    });
    try {
      const result = await uploadChunkedStream(
        {
          client,
          bucket: 'backups',
          source: sourceOf(data),
          keyForChunk: (index) => `chunk-${index}`,
          storageClass: 'STANDARD',
          sse: 'none',
        },
        // Paced by a rate cap, the body is a stream, which the SDK would send as UNSIGNED-PAYLOAD.
        { chunkSizeBytes: 10, partSizeBytes: 4, concurrency: 1, limits: { minPartSizeBytes: 1 }, maxUploadBytesPerSecond: 1e9 },
      );

      expect(handler.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
        'PUT /backups/chunk-0',
        'HEAD /backups/chunk-0',
      ]);
      expect(handler.requests[0]?.headers['x-amz-content-sha256']).toBe(sha256(data));
      expect(handler.requests[0]?.headers.authorization).toContain('x-amz-content-sha256');
      expect(result.chunks[0]?.parts).toEqual([{ number: 1, size: 3, sha256: sha256(data) }]);
    } finally {
      client.destroy();
    }
  });
});
