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
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { type RetryOptions, withRetry } from './retry';
import { parseRestoreHeader } from './archive/restore-header';
import { sseParams } from './encryption';
import { lockParams, retentionFor } from './lock/retention';
import { describeS3Error, isS3Error, sseHint } from './s3-errors';
import type { SendOptions } from './upload/types';

export type S3StoreConfig = Pick<Config['s3'], 'bucket' | 'sse' | 'sse_kms_key_id' | 'object_lock'>;

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

/** Write only if the key is absent, or only if it still has this ETag (quoted, as S3 reports it). */
export type WriteCondition = { readonly ifNoneMatch: true } | { readonly ifMatch: string };

export interface PutOptions {
  readonly storageClass: StorageClass;
  readonly contentType?: string;
  readonly condition?: WriteCondition;
  /**
   * Backup data (a manifest, a writer marker): when `s3.object_lock` is set, written with
   * its retention (until now + `days`) and a Content-MD5, which S3 requires of every
   * Object Lock PUT. Never for `current.json`, which each backup replaces.
   */
  readonly locked?: boolean;
}

/** A conditional write met another writer's object; names the key. Exit 1: nothing was overwritten. */
export class ConditionalWriteError extends BtrfsToS3Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`S3 PutObject s3://…/${key} refused: ${detail} (another writer on this prefix?); nothing was overwritten`, {
      exitCode: ExitCode.Fatal,
    });
  }
}

const unquote = (etag: string) => etag.replace(/^"(.*)"$/, '$1');
const md5Base64 = (body: Buffer | string) => createHash('md5').update(body).digest('base64');

/** Whole-object reads and writes with the project's SSE and storage-class rules. */
export class S3ObjectStore {
  constructor(
    private readonly client: ObjectClient,
    private readonly config: S3StoreConfig,
    /** Attempts and backoff for every call: the S3Bucket's policy; tests inject an instant sleep. */
    private readonly retry: RetryOptions,
    /** Ends a call still in flight, and its retries, a grace period after the run was stopped (graceAfter). */
    private readonly stop?: AbortSignal,
  ) {}

  /** One call, retried, until it ends or `stop` aborts it. */
  private async send<T>(call: (options: SendOptions) => Promise<T>): Promise<T> {
    if (this.stop === undefined) return withRetry(() => call({}), this.retry);
    const stop = this.stop;
    try {
      return await withRetry(() => call({ abortSignal: stop }), { ...this.retry, signal: stop });
    } catch (error) {
      // The SDK says only "Request aborted"; the grace's reason says why.
      throw stop.aborted ? stop.reason : error;
    }
  }

  /**
   * PUTs a whole object; every PUT carries the SSE of `s3.sse` (and `s3.sse_kms_key_id`), and
   * a `locked` one the retention of `s3.object_lock` when it is set. With a
   * `condition`, the store writes only if the key is absent (`ifNoneMatch`) or still has
   * the ETag this run read (`ifMatch`); see settleRefusedWrite for a refusal.
   */
  async putObject(key: string, body: Buffer | string, options: PutOptions): Promise<void> {
    const { condition } = options;
    try {
      // If-Match goes out unquoted first: Ceph RGW (and DigitalOcean Spaces) refuse the quoted
      // form even when it matches, and AWS S3 compares the value without its quotes, so
      // this saves a refused round trip on every pointer write to such a store.
      await this.put(
        key,
        body,
        options,
        condition !== undefined && 'ifMatch' in condition ? { ifMatch: unquote(condition.ifMatch) } : condition,
      );
    } catch (error) {
      if (options.condition === undefined || !isS3Error(error, 'PreconditionFailed')) {
        throw new S3StoreError('PutObject', key, error, sseHint(this.config.sse, error));
      }
      await this.settleRefusedWrite(key, body, options, options.condition);
    }
  }

  private async put(key: string, body: Buffer | string, options: PutOptions, condition: WriteCondition | undefined): Promise<void> {
    const lock = options.locked === true ? this.config.object_lock : undefined;
    const command = new PutObjectCommand({
      Bucket: this.config.bucket,
      Key: key,
      Body: body,
      StorageClass: options.storageClass,
      ContentType: options.contentType,
      ...sseParams(this.config),
      // A signed payload hash does not count: S3 wants Content-MD5 (or a checksum) on an Object Lock PUT.
      ...(lock === undefined ? {} : { ...lockParams(retentionFor(lock, new Date())), ContentMD5: md5Base64(body) }),
      ...(condition === undefined ? {} : 'ifNoneMatch' in condition ? { IfNoneMatch: '*' } : { IfMatch: condition.ifMatch }),
    });
    await this.send((options) => this.client.send(command, options));
  }

  /**
   * A conditional write got 412. Not every 412 is another writer: a retried write whose
   * first response was lost meets its own object (same content: done), and stores differ
   * on the form of the ETag in `If-Match`: Ceph RGW refuses the standard quoted one even
   * when it matches, so it is sent unquoted first, and a store that wants the quotes is
   * asked again at once with them (no read first: that would cost a round trip on every
   * run there). Refused too, the object is read. In a versioned bucket (Object Lock's) Ceph RGW 16
   * refuses every `If-Match`, matching, unquoted or `*`: when the ETag just read is still
   * the one expected, no other writer came between, so the object is written without the
   * condition (a versioned bucket keeps what it replaces anyway). Anything else is a
   * ConditionalWriteError.
   */
  private async settleRefusedWrite(key: string, body: Buffer | string, options: PutOptions, condition: WriteCondition): Promise<void> {
    // The same ETag quoted is as strict a condition; a refusal of it too is judged by the read below.
    if ('ifMatch' in condition && unquote(condition.ifMatch) !== condition.ifMatch) {
      try {
        await this.put(key, body, options, condition);
        return;
      } catch (error) {
        if (!isS3Error(error, 'PreconditionFailed')) throw new S3StoreError('PutObject', key, error);
      }
    }
    const current = await this.readWithEtag(key);
    if (current !== undefined && current.bytes.equals(Buffer.from(body))) return;
    if ('ifMatch' in condition && current !== undefined && unquote(current.etag) === unquote(condition.ifMatch)) {
      try {
        await this.put(key, body, options, undefined);
        return;
      } catch (error) {
        throw new S3StoreError('PutObject', key, error);
      }
    }
    throw new ConditionalWriteError(
      key,
      'ifNoneMatch' in condition
        ? 'it already exists with other content'
        : current === undefined
          ? 'it was deleted since this run read it'
          : 'it changed since this run read it',
    );
  }

  /** An object's bytes and ETag, or undefined when it does not exist. */
  async readWithEtag(key: string): Promise<{ readonly bytes: Buffer; readonly etag: string } | undefined> {
    try {
      const { body, etag } = await this.getWithEtag(key);
      return { bytes: await buffer(body), etag };
    } catch (error) {
      if (error instanceof S3StoreError && isS3Error(error.cause, 'NoSuchKey')) return undefined;
      throw error;
    }
  }

  /** Streams an object's bytes. */
  async getObject(key: string): Promise<Readable> {
    return (await this.getWithEtag(key)).body;
  }

  private async getWithEtag(key: string): Promise<{ readonly body: Readable; readonly etag: string }> {
    try {
      // Retries the request only: a body that fails mid-stream is the reader's to handle.
      const response = await this.send((options) =>
        this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), options),
      );
      if (!(response.Body instanceof Readable)) throw new Error('response body is not a Node stream');
      return { body: response.Body, etag: response.ETag ?? '' };
    } catch (error) {
      throw new S3StoreError('GetObject', key, error);
    }
  }

  /** Whether an object exists; a 404 is "no", any other failure is an error. */
  async objectExists(key: string): Promise<boolean> {
    try {
      await this.send((options) => this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }), options));
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false;
      throw new S3StoreError('HeadObject', key, error);
    }
  }

  async headObject(key: string): Promise<ObjectInfo> {
    try {
      const response = await this.send((options) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }), options),
      );
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
