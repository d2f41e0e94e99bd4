import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  type PutObjectCommandOutput,
  S3ServiceException,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { BtrfsToS3Error, type Config, ExitCode } from '@org/btrfs-s3-core';
import { Readable } from 'node:stream';
import { type RetryOptions, withRetry } from './retry';
import { parseRestoreHeader } from './archive/restore-header';
import { describeS3Error, sseHint } from './s3-errors';
import type { SendOptions } from './upload/types';

export type S3StoreConfig = Pick<Config['s3'], 'bucket' | 'sse'>;

/** The calls the whole-object reads and writes make. An S3Client from createS3Client satisfies it; unit tests pass a fake. */
export interface ObjectClient {
  send(command: PutObjectCommand, options?: SendOptions): Promise<PutObjectCommandOutput>;
  send(command: GetObjectCommand, options?: SendOptions): Promise<GetObjectCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly storageClass: string;
  /** An archived object's thaw (x-amz-restore): in progress, or done and not yet expired; absent when none. */
  readonly thaw?: 'ongoing' | 'restored';
}

/** A failed S3 call, naming the operation and key; never carries credentials. */
export class S3StoreError extends BtrfsToS3Error {
  constructor(operation: string, key: string, cause: unknown, hint?: string) {
    super(`S3 ${operation} s3://…/${key} failed: ${describeS3Error(cause)}${hint === undefined ? '' : `; ${hint}`}`, {
      exitCode: ExitCode.Fatal,
      cause,
    });
  }
}

/** Whole-object reads and writes with the project's SSE and storage-class rules. */
export class S3ObjectStore {
  constructor(
    private readonly client: ObjectClient,
    private readonly config: S3StoreConfig,
    /** Attempts and backoff for every call: the S3Bucket's policy; tests inject an instant sleep. */
    private readonly retry: RetryOptions,
  ) {}

  /** PUTs a whole object; every PUT carries SSE-S3 unless `s3.sse = "none"`. */
  async putObject(key: string, body: Buffer | string, options: { storageClass: StorageClass; contentType?: string }): Promise<void> {
    try {
      const command = new PutObjectCommand({
        Bucket: this.config.bucket,
        Key: key,
        Body: body,
        StorageClass: options.storageClass,
        ContentType: options.contentType,
        ...(this.config.sse === 'AES256' ? { ServerSideEncryption: 'AES256' } : {}),
      });
      await withRetry(() => this.client.send(command), this.retry);
    } catch (error) {
      throw new S3StoreError('PutObject', key, error, sseHint(this.config.sse, error));
    }
  }

  /** Streams an object's bytes. */
  async getObject(key: string): Promise<Readable> {
    try {
      // Retries the request only: a body that fails mid-stream is the reader's to handle.
      const response = await withRetry(() => this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key })), this.retry);
      if (!(response.Body instanceof Readable)) throw new Error('response body is not a Node stream');
      return response.Body;
    } catch (error) {
      throw new S3StoreError('GetObject', key, error);
    }
  }

  /** Whether an object exists; a 404 is "no", any other failure is an error. */
  async objectExists(key: string): Promise<boolean> {
    try {
      await withRetry(() => this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key })), this.retry);
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
      throw new S3StoreError('HeadObject', key, error);
    }
  }

  async headObject(key: string): Promise<ObjectInfo> {
    try {
      const response = await withRetry(() => this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key })), this.retry);
      const restore = parseRestoreHeader(response.Restore);
      const unexpired = restore.state === 'restored' && (restore.expiresAt === undefined || restore.expiresAt > new Date());
      const thaw = restore.state === 'ongoing' ? 'ongoing' : unexpired ? 'restored' : undefined;
      return {
        key,
        size: response.ContentLength ?? 0,
        storageClass: response.StorageClass ?? 'STANDARD',
        ...(thaw === undefined ? {} : { thaw }),
      };
    } catch (error) {
      throw new S3StoreError('HeadObject', key, error);
    }
  }
}
