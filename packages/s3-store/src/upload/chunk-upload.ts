import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type StorageClass,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';
import type { Readable } from 'node:stream';
import { sseParams } from '../encryption';
import { lockParams, type ObjectLockConfig, type Retention, retentionFor } from '../lock/retention';
import { isS3Error } from '../s3-errors';
import { type FailurePoint, PartMismatchError } from './errors';
import { listAllParts } from './list-parts';
import type { ChunkEndItem, PartItem } from './split-stream';
import { signedWithHash } from './signed-hash';
import { StepError } from './step-error';
import type { MultipartClient, UploadedChunk, UploadedPart } from './types';

/** What every chunk of a run shares. */
export interface ChunkContext {
  readonly client: MultipartClient;
  readonly bucket: string;
  readonly storageClass: StorageClass;
  readonly sse: Config['s3']['sse'];
  readonly sseKmsKeyId: string | undefined;
  /** Set: every chunk object is locked until `days` after its CreateMultipartUpload. */
  readonly objectLock: ObjectLockConfig | undefined;
  readonly contentType?: string;
  /** A chunk of one part, cut whole, is one PutObject unless this is set (ChunkedUploadOptions.alwaysMultipart). */
  readonly alwaysMultipart: boolean;
  /** Aborted when the run fails: in-flight parts stop and retry waits end. */
  readonly signal: AbortSignal;
  /**
   * Aborted a grace period after `signal` (ChunkedUploadOptions.stopGraceMs): ends the
   * calls a failing run lets finish (Create, Complete and its checks, the aborts of open
   * uploads), so a store that stopped answering cannot hold the run's end for minutes.
   */
  readonly stopGrace: AbortSignal;
  /** The bytes of one UploadPart attempt: the part as stored, paced by the run's rate cap. */
  body(part: PartItem): Buffer | Readable;
  /** The retry helper, counting retries and tagging failures with `point`. `signal` ends its waits. */
  retry<T>(point: FailurePoint, operation: (attempt: number) => Promise<T>, signal: AbortSignal | undefined): Promise<T>;
}

interface SentPart extends UploadedPart {
  readonly etag: string | undefined;
}

/** A multipart upload an interrupted run left open, with the parts it acknowledged (the store's ListParts agreed). */
export interface OpenUpload {
  readonly uploadId: string;
  readonly parts: ReadonlyArray<UploadedPart & { readonly etag: string }>;
}

const unquote = (etag: string) => etag.replace(/^"|"$/g, '');
const base64OfHex = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/**
 * One chunk object as one multipart upload. Parts may arrive from several workers in
 * any order; the upload is created by the first and completed by whichever caller
 * finds it sealed with every part acknowledged.
 */
export class ChunkUpload {
  private uploadId: Promise<string> | undefined;
  private readonly sent = new Map<number, SentPart>();
  private sealed: ChunkEndItem | undefined;
  private completion: Promise<UploadedChunk> | undefined;
  /** What CreateMultipartUpload asked for, when the chunk is locked. */
  private retention: Retention | undefined;
  /** Set once the chunk was stored whole with one PutObject: the ETag it answered with. */
  private putWhole: { readonly etag: string | undefined } | undefined;
  /** Set once CompleteMultipartUpload succeeded. */
  result: UploadedChunk | undefined;

  constructor(
    private readonly ctx: ChunkContext,
    readonly key: string,
    /** A resumed run continues this upload: its parts count as sent, and only the rest are uploaded. */
    resumed?: OpenUpload,
  ) {
    if (resumed === undefined) return;
    this.uploadId = Promise.resolve(resumed.uploadId);
    for (const part of resumed.parts) this.sent.set(part.number, part);
    // Asked for again: the store may not have applied the original request's (see lockIfUnlocked).
    if (ctx.objectLock !== undefined) this.retention = retentionFor(ctx.objectLock, new Date());
  }

  /** Parts acknowledged so far (a resumed upload's included). */
  get acknowledgedParts(): number {
    return this.sent.size;
  }

  /**
   * Sends one part; returns the upload it went to and its ETag, which a resume record keeps.
   * A chunk's only part, cut whole, is the chunk's PutObject instead: no upload id then.
   */
  async uploadPart(part: PartItem): Promise<{ readonly uploadId: string | undefined; readonly etag: string | undefined }> {
    const { alwaysMultipart, objectLock } = this.ctx;
    if (part.wholeChunk === true && this.uploadId === undefined && objectLock === undefined && !alwaysMultipart) {
      return { uploadId: undefined, etag: await this.putObject(part) };
    }
    const uploadId = await this.start();
    const { client, bucket, signal } = this.ctx;
    const response = await this.ctx.retry(
      { operation: 'UploadPart', key: this.key, partNumber: part.partNumber },
      () =>
        client.send(
          signedWithHash(
            new UploadPartCommand({
              Bucket: bucket,
              Key: this.key,
              UploadId: uploadId,
              PartNumber: part.partNumber,
              Body: this.ctx.body(part),
              ContentLength: part.size,
              // Also the checksum header S3 requires of every UploadPart of an Object Lock upload.
              ChecksumSHA256: base64OfHex(part.sha256),
            }),
            part.sha256,
          ),
          { abortSignal: signal },
        ),
      signal,
    );
    this.sent.set(part.partNumber, { number: part.partNumber, size: part.size, sha256: part.sha256, etag: response.ETag });
    return { uploadId, etag: response.ETag };
  }

  /**
   * Stores a chunk of one part with one PutObject instead of CreateMultipartUpload,
   * UploadPart and CompleteMultipartUpload: two round trips fewer for every small
   * incremental. Signed with the part's SHA-256 as UploadPart is, so the store checks every
   * byte against the manifest's hash. Not for a locked chunk: Ceph RGW wants Content-MD5
   * on a PutObject with Object Lock, another pass over the bytes (docs/upload.md).
   */
  private async putObject(part: PartItem): Promise<string | undefined> {
    const { client, bucket, storageClass, sse, sseKmsKeyId, contentType, signal } = this.ctx;
    const response = await this.ctx.retry(
      { operation: 'PutObject', key: this.key },
      () =>
        client.send(
          signedWithHash(
            new PutObjectCommand({
              Bucket: bucket,
              Key: this.key,
              Body: this.ctx.body(part),
              ContentLength: part.size,
              StorageClass: storageClass,
              ChecksumSHA256: base64OfHex(part.sha256),
              ...sseParams({ sse, sse_kms_key_id: sseKmsKeyId }),
              ...(contentType === undefined ? {} : { ContentType: contentType }),
            }),
            part.sha256,
          ),
          { abortSignal: signal },
        ),
      signal,
    );
    this.sent.set(part.partNumber, { number: part.partNumber, size: part.size, sha256: part.sha256, etag: response.ETag });
    this.putWhole = { etag: response.ETag };
    return response.ETag;
  }

  seal(end: ChunkEndItem): void {
    this.sealed = end;
  }

  /** Completes the object if it is sealed and all its parts are acknowledged; a no-op otherwise. */
  async completeIfReady(): Promise<void> {
    const sealed = this.sealed;
    if (sealed === undefined || this.sent.size < sealed.partCount) return;
    this.completion ??= this.complete(sealed);
    await this.completion;
  }

  /**
   * Aborts the multipart upload unless it was completed. Returns the failure if the
   * abort itself failed (after retries, or when the stop's grace ran out first), so the
   * caller can report it.
   */
  async abort(): Promise<unknown> {
    // A chunk stored with PutObject has no upload: it is there or not.
    if (this.result !== undefined || this.uploadId === undefined) return undefined;
    let uploadId: string;
    try {
      uploadId = await this.uploadId;
    } catch {
      // CreateMultipartUpload failed: there is no upload id to abort. If the store created
      // one anyway, the next run's stale-upload cleanup finds it by prefix.
      return undefined;
    }
    const { client, bucket, stopGrace } = this.ctx;
    try {
      // Not tied to the run's signal: the run is failing, and the upload must still go;
      // but only for the stop's grace, so a store that no longer answers cannot hold the exit.
      await this.ctx.retry(
        { operation: 'AbortMultipartUpload', key: this.key },
        async () => {
          try {
            await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: this.key, UploadId: uploadId }), {
              abortSignal: stopGrace,
            });
          } catch (error) {
            // Gone already (an earlier attempt succeeded but its response was lost): that is the goal.
            if (!isS3Error(error, 'NoSuchUpload')) throw error;
          }
        },
        stopGrace,
      );
      return undefined;
    } catch (error) {
      if (stopGrace.aborted) return new Error(`${this.key}: the store did not answer AbortMultipartUpload in time`);
      return error instanceof StepError ? error.cause : error;
    }
  }

  private start(): Promise<string> {
    const { client, bucket, storageClass, sse, sseKmsKeyId, objectLock, contentType, signal, stopGrace } = this.ctx;
    if (this.uploadId === undefined && objectLock !== undefined) this.retention = retentionFor(objectLock, new Date());
    const retention = this.retention;
    this.uploadId ??= this.ctx.retry(
      { operation: 'CreateMultipartUpload', key: this.key },
      // Not the run's signal on the request itself: once sent, its upload id is needed to
      // abort it. Only the stop's grace ends it (an upload the store made anyway is then
      // left to the next run's stale-upload cleanup).
      async () => {
        const response = await client.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: this.key,
            StorageClass: storageClass,
            // Declares the SHA-256 every part carries: S3 refuses part checksums of another
            // kind than the upload's, and then wants them again in Complete.
            ChecksumAlgorithm: 'SHA256',
            ...sseParams({ sse, sse_kms_key_id: sseKmsKeyId }),
            ...(retention === undefined ? {} : lockParams(retention)),
            ...(contentType === undefined ? {} : { ContentType: contentType }),
          }),
          { abortSignal: stopGrace },
        );
        if (response.UploadId === undefined || response.UploadId === '') throw new Error('CreateMultipartUpload returned no UploadId');
        return response.UploadId;
      },
      signal,
    );
    return this.uploadId;
  }

  private async complete(sealed: ChunkEndItem): Promise<UploadedChunk> {
    const put = this.putWhole;
    const { etag, parts } =
      put === undefined ? await this.completeUpload(sealed) : { etag: put.etag, parts: this.checkSentParts(sealed, false) };
    const stored = await this.checkCompleted(sealed.size);
    await this.lockIfUnlocked(stored);
    this.result = {
      key: this.key,
      size: sealed.size,
      sha256: sealed.sha256,
      plainSize: sealed.plainSize,
      plainSha256: sealed.plainSha256,
      // Ceph RGW answers Complete with an empty ETag when SSE is on; HeadObject has it.
      etag: unquote(etag !== undefined && etag !== '' ? etag : (stored.ETag ?? '')),
      parts: parts.map(({ number, size, sha256 }) => ({ number, size, sha256 })),
    };
    return this.result;
  }

  /** Completes the multipart upload with the parts sent; returns the ETag Complete answered with. */
  private async completeUpload(sealed: ChunkEndItem): Promise<{ readonly etag: string | undefined; readonly parts: readonly SentPart[] }> {
    const uploadId = await this.start();
    const parts = this.checkSentParts(sealed, true);
    // One part: Complete names it by ETag and SHA-256 and the HEAD after checks the size, so a listing proves nothing more.
    if (parts.length > 1) await this.checkStoredParts(uploadId, parts);
    // Complete is sent whatever the signal (begun, it must end), so a stop asked for by now
    // leaves the upload open for the next run to resume, as the listing's retry would.
    else this.ctx.signal.throwIfAborted();
    const { client, bucket, stopGrace } = this.ctx;
    const etag = await this.ctx.retry(
      { operation: 'CompleteMultipartUpload', key: this.key },
      async (attempt) => {
        const request = {
          Bucket: bucket,
          Key: this.key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((part) => ({ PartNumber: part.number, ETag: part.etag, ChecksumSHA256: base64OfHex(part.sha256) })),
          },
        };
        try {
          return (await client.send(new CompleteMultipartUploadCommand(request), { abortSignal: stopGrace })).ETag;
        } catch (error) {
          // A retry after a lost response finds the upload gone because it was completed;
          // checkCompleted then confirms the object is there with the right size.
          if (attempt > 1 && isS3Error(error, 'NoSuchUpload')) return undefined;
          throw error;
        }
      },
      stopGrace,
    );
    return { etag, parts };
  }

  /**
   * A locked chunk must hold the retention its CreateMultipartUpload asked for. Ceph RGW 16
   * ignores Object Lock on multipart uploads (the object comes out unlocked), so when
   * HeadObject shows less, PutObjectRetention sets it; on AWS, which applies it, this
   * sends nothing.
   */
  private async lockIfUnlocked(head: HeadObjectCommandOutput): Promise<void> {
    const wanted = this.retention;
    if (wanted === undefined) return;
    const held = head.ObjectLockRetainUntilDate;
    if (held !== undefined && held.getTime() >= wanted.retainUntil.getTime()) return;
    const { client, bucket, stopGrace } = this.ctx;
    const command = new PutObjectRetentionCommand({
      Bucket: bucket,
      Key: this.key,
      Retention: { Mode: wanted.mode, RetainUntilDate: wanted.retainUntil },
    });
    await this.ctx.retry(
      { operation: 'PutObjectRetention', key: this.key },
      () => client.send(command, { abortSignal: stopGrace }),
      stopGrace,
    );
  }

  /** The completed object must be there with the chunk's size; a store that assembled it wrong fails the run. */
  private async checkCompleted(size: number): Promise<HeadObjectCommandOutput> {
    const { client, bucket, stopGrace } = this.ctx;
    const head = await this.ctx.retry(
      { operation: 'HeadObject', key: this.key },
      () => client.send(new HeadObjectCommand({ Bucket: bucket, Key: this.key }), { abortSignal: stopGrace }),
      stopGrace,
    );
    if (head.ContentLength !== size) {
      throw new StepError(
        { operation: 'verify object', key: this.key },
        new PartMismatchError(`the completed object holds ${head.ContentLength ?? '?'} bytes, ${size} were sent`),
      );
    }
    return head;
  }

  /**
   * What this process sent: parts 1..n adding up to the chunk, each acknowledged with an
   * ETag when Complete must name them (`needEtags`; a PutObject's may be empty, as Ceph
   * RGW's Complete's is with SSE, and HeadObject then has it).
   */
  private checkSentParts(sealed: ChunkEndItem, needEtags: boolean): Array<SentPart & { etag: string }> {
    const mismatch = (message: string) => new StepError({ operation: 'verify parts', key: this.key }, new PartMismatchError(message));
    const parts: Array<SentPart & { etag: string }> = [];
    for (let number = 1; number <= sealed.partCount; number += 1) {
      const part = this.sent.get(number);
      if (part === undefined) throw mismatch(`part ${number} of ${sealed.partCount} was never acknowledged`);
      if (needEtags && (part.etag === undefined || part.etag === '')) throw mismatch(`UploadPart returned no ETag for part ${number}`);
      parts.push({ ...part, etag: part.etag ?? '' });
    }
    const bytes = parts.reduce((sum, part) => sum + part.size, 0);
    if (this.sent.size !== sealed.partCount || bytes !== sealed.size) {
      throw mismatch(
        `sent ${this.sent.size} parts holding ${bytes} bytes for a chunk of ${sealed.partCount} parts and ${sealed.size} bytes`,
      );
    }
    return parts;
  }

  /**
   * What the store holds (ListParts) must match what was sent, part by part, before
   * Complete: lib-storage once completed objects with parts missing (aws-sdk-js-v3 #2311, #8299).
   * Asked only for a chunk of several parts (one round trip less for a small incremental).
   */
  private async checkStoredParts(uploadId: string, sent: ReadonlyArray<SentPart & { etag: string }>): Promise<void> {
    const { client, bucket, signal } = this.ctx;
    const stored = await listAllParts({ client, bucket, key: this.key, uploadId, signal }, (point, call) =>
      this.ctx.retry(point, call, signal),
    );
    const mismatch = (message: string) => new StepError({ operation: 'verify parts', key: this.key }, new PartMismatchError(message));
    if (stored.length !== sent.length) throw mismatch(`the store holds ${stored.length} parts, ${sent.length} were sent`);
    const byNumber = new Map(stored.map((part) => [part.PartNumber, part]));
    for (const part of sent) {
      const held = byNumber.get(part.number);
      if (held === undefined) throw mismatch(`the store lacks part ${part.number}`);
      if (held.Size !== part.size)
        throw mismatch(`the store holds ${held.Size ?? '?'} bytes of part ${part.number}, ${part.size} were sent`);
      if (held.ETag === undefined || unquote(held.ETag) !== unquote(part.etag))
        throw mismatch(`the store's ETag of part ${part.number} differs from the one UploadPart returned`);
    }
  }
}
