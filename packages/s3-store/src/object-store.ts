import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client, S3ServiceException, type StorageClass } from '@aws-sdk/client-s3';
import { BtrfsToS3Error, type Config, ExitCode } from '@org/btrfs-s3-core';
import { Readable } from 'node:stream';

export type S3StoreConfig = Pick<Config['s3'], 'bucket' | 'sse'>;

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly storageClass: string;
}

/** A failed S3 call, naming the operation and key; never carries credentials. */
export class S3StoreError extends BtrfsToS3Error {
  constructor(operation: string, key: string, cause: unknown, hint?: string) {
    const reason = cause instanceof S3ServiceException ? `${cause.name} (HTTP ${cause.$metadata.httpStatusCode ?? '?'})` : cause instanceof Error ? cause.message : String(cause);
    super(`S3 ${operation} s3://…/${key} failed: ${reason}${hint === undefined ? '' : `; ${hint}`}`, { exitCode: ExitCode.Fatal, cause });
  }
}

function sseHint(config: S3StoreConfig, error: unknown): string | undefined {
  const refused = error instanceof S3ServiceException && (error.name === 'InvalidRequest' || error.name === 'InvalidArgument');
  return refused && config.sse === 'AES256'
    ? 'the store may refuse server-side encryption (x-amz-server-side-encryption: AES256); check its SSE support or the s3.sse setting'
    : undefined;
}

/** Whole-object reads and writes with the project's SSE and storage-class rules. */
export class S3ObjectStore {
  constructor(
    private readonly client: S3Client,
    private readonly config: S3StoreConfig,
  ) {}

  /** PUTs a whole object; every PUT carries SSE-S3 unless `s3.sse = "none"`. */
  async putObject(key: string, body: Buffer | string, options: { storageClass: StorageClass; contentType?: string }): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.config.bucket,
          Key: key,
          Body: body,
          StorageClass: options.storageClass,
          ContentType: options.contentType,
          ...(this.config.sse === 'AES256' ? { ServerSideEncryption: 'AES256' } : {}),
        }),
      );
    } catch (error) {
      throw new S3StoreError('PutObject', key, error, sseHint(this.config, error));
    }
  }

  /** Streams an object's bytes. */
  async getObject(key: string): Promise<Readable> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }));
      if (!(response.Body instanceof Readable)) throw new Error('response body is not a Node stream');
      return response.Body;
    } catch (error) {
      throw new S3StoreError('GetObject', key, error);
    }
  }

  async headObject(key: string): Promise<ObjectInfo> {
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return { key, size: response.ContentLength ?? 0, storageClass: response.StorageClass ?? 'STANDARD' };
    } catch (error) {
      throw new S3StoreError('HeadObject', key, error);
    }
  }
}
