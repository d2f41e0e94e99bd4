import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { testGateway } from '../../src';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The gateway's credentials, as the global setup exported them. */
export function gatewayCredentials(): Credentials {
  testGateway();
  return { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '' };
}

/** An S3 client as the project configures one for an S3-compatible store. */
export function s3Client(endpoint: string, credentials: Credentials = gatewayCredentials()): S3Client {
  return new S3Client({
    endpoint,
    region: testGateway().region,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    // A wedged proxy must fail the test, not hang it.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}

export async function getBytes(client: S3Client, bucket: string, key: string, range?: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  if (!(response.Body instanceof Readable)) throw new Error('GetObject body is not a Node stream');
  return buffer(response.Body);
}

export interface S3Failure {
  readonly name: string;
  readonly status: number | undefined;
  readonly message: string;
}

/** The S3 error a call failed with; throws if it succeeded or failed some other way. */
export async function s3Failure(call: Promise<unknown>): Promise<S3Failure> {
  try {
    await call;
  } catch (error) {
    if (error instanceof S3ServiceException) return { name: error.name, status: error.$metadata.httpStatusCode, message: error.message };
    throw error;
  }
  throw new Error('expected the S3 call to fail, but it succeeded');
}

/** A key prefix of the test's own; `cleanup` deletes its objects and uploads straight at the gateway. */
export function gatewayScope(name: string) {
  const gateway = testGateway();
  const direct = s3Client(gateway.endpoint);
  const prefix = `testenv/${name}-${randomUUID()}/`;
  return {
    bucket: gateway.bucket,
    prefix,
    direct,
    async cleanup(): Promise<void> {
      try {
        const uploads = await direct.send(new ListMultipartUploadsCommand({ Bucket: gateway.bucket, Prefix: prefix }));
        for (const upload of uploads.Uploads ?? []) {
          await direct.send(new AbortMultipartUploadCommand({ Bucket: gateway.bucket, Key: upload.Key, UploadId: upload.UploadId }));
        }
        const listing = await direct.send(new ListObjectsV2Command({ Bucket: gateway.bucket, Prefix: prefix }));
        const objects = (listing.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [{ Key: object.Key }]));
        if (objects.length > 0) await direct.send(new DeleteObjectsCommand({ Bucket: gateway.bucket, Delete: { Objects: objects } }));
      } finally {
        direct.destroy();
      }
    },
  };
}
