import {
  AbortMultipartUploadCommand,
  type AbortMultipartUploadCommandOutput,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  type ListPartsCommandOutput,
  type Part,
  PutObjectCommand,
  type PutObjectCommandOutput,
  PutObjectRetentionCommand,
  type PutObjectRetentionCommandOutput,
  type StorageClass,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import type { MultipartClient, SendOptions } from '../upload/types';
import {
  bodyBytes,
  compareKeys,
  etagOf,
  type FakeObject,
  type FakeObjects,
  headObject,
  md5Hex,
  multipartEtag,
  newObject,
  notModeled,
  ObjectBytes,
  s3Error,
  unquote,
  untilAborted,
} from './fake-store';
import { FakeVersions } from './fake-versions';

export { s3Error, untilAborted };

export type FakeCommand =
  | CreateMultipartUploadCommand
  | UploadPartCommand
  | PutObjectCommand
  | ListPartsCommand
  | CompleteMultipartUploadCommand
  | AbortMultipartUploadCommand
  | HeadObjectCommand
  | ListMultipartUploadsCommand
  | PutObjectRetentionCommand;

export type FakeOutput =
  | CreateMultipartUploadCommandOutput
  | UploadPartCommandOutput
  | PutObjectCommandOutput
  | ListPartsCommandOutput
  | CompleteMultipartUploadCommandOutput
  | AbortMultipartUploadCommandOutput
  | HeadObjectCommandOutput
  | ListMultipartUploadsCommandOutput
  | PutObjectRetentionCommandOutput;

/**
 * Runs before the fake answers a command; throw to fail the call, await to hold it,
 * or return 'lose-response' to carry the command out and then fail as a dropped connection would.
 */
export type FakeHook = (command: FakeCommand, signal: AbortSignal | undefined) => Promise<void> | void | 'lose-response';

export interface FakeUpload {
  readonly key: string;
  readonly parts: Map<number, Buffer>;
  readonly initiated: Date;
  /** When each part was stored (ListParts' LastModified); a part without one reports `initiated`. */
  readonly partTimes?: Map<number, Date>;
  /** What CreateMultipartUpload asked for; the completed object gets it. */
  readonly storageClass?: StorageClass;
  /** The Object Lock retention CreateMultipartUpload asked for. */
  readonly retention?: NonNullable<FakeObject['retention']>;
}

const metadata = { $metadata: { httpStatusCode: 200 } };
/** S3's largest page of parts, uploads or keys, whatever a request asks for. */
const MAX_PAGE = 1000;
const quotedMd5 = (bytes: Buffer) => `"${md5Hex(bytes)}"`;

function pageSize(requested: number | undefined, fakeLimit: number): number {
  return Math.max(0, Math.min(requested ?? MAX_PAGE, MAX_PAGE, fakeLimit));
}

/**
 * An in-memory S3 at the SDK boundary: records every command, keeps multipart uploads
 * and completed objects, and counts UploadParts in flight. Part bodies are copied only
 * after the hook returns, as an HTTP request reads its body while it runs, so an
 * uploader that reused a part's buffer too early would store wrong bytes. Complete
 * checks the part list as S3 does (MalformedXML, InvalidPartOrder, InvalidPart, and
 * EntityTooSmall once `minPartSizeBytes` is set); the listings page as S3 does.
 */
export class FakeS3 implements MultipartClient {
  readonly commands: FakeCommand[] = [];
  /** Completed objects as bytes: a view of `store`, which FakeS3Bucket shares with its object reads. */
  readonly objects: ObjectBytes;
  readonly uploads = new Map<string, FakeUpload>();
  hook: FakeHook = () => undefined;
  /** Rewrites what ListParts reports, to stand in for a store that lost or changed a part. */
  listPartsFilter: (parts: Part[]) => Part[] = (parts) => parts;
  /** The ETag UploadPart answers with; return undefined to stand in for a store that sends none. */
  etagFor: (bytes: Buffer, partNumber: number) => string | undefined = (bytes) => quotedMd5(bytes);
  /** Every acknowledged UploadPart, and every chunk's PutObject as its part 1, in order of acknowledgement. */
  readonly receivedParts: Array<{ key: string; partNumber: number; bytes: Buffer }> = [];
  /** ListMultipartUploads page size (below MaxUploads), to exercise pagination. */
  pageSize = MAX_PAGE;
  /** ListParts page size (below MaxParts), to exercise pagination. */
  partsPageSize = MAX_PAGE;
  /**
   * S3 refuses Complete with 400 EntityTooSmall when a part other than the last is under
   * 5 MiB. Unit tests upload byte-sized parts, so the fake checks only from this size (0: never).
   */
  minPartSizeBytes = 0;
  /** The clock for uploads' Initiated and parts' LastModified. */
  now: () => Date = () => new Date();
  /** False stands in for Ceph RGW 16, which completes an upload unlocked whatever its CreateMultipartUpload asked. */
  locksOnComplete = true;
  inFlight = 0;
  maxInFlight = 0;
  private nextId = 1;

  constructor(
    readonly store: FakeObjects = new Map(),
    /** PutObjectRetention goes here; FakeS3Bucket shares its own. */
    readonly versions: FakeVersions = new FakeVersions(store),
  ) {
    this.objects = new ObjectBytes(store);
  }

  of<C extends FakeCommand>(type: new (...args: never[]) => C): C[] {
    return this.commands.filter((command): command is C => command instanceof type);
  }

  send(command: CreateMultipartUploadCommand, options?: SendOptions): Promise<CreateMultipartUploadCommandOutput>;
  send(command: UploadPartCommand, options?: SendOptions): Promise<UploadPartCommandOutput>;
  send(command: PutObjectCommand, options?: SendOptions): Promise<PutObjectCommandOutput>;
  send(command: ListPartsCommand, options?: SendOptions): Promise<ListPartsCommandOutput>;
  send(command: CompleteMultipartUploadCommand, options?: SendOptions): Promise<CompleteMultipartUploadCommandOutput>;
  send(command: AbortMultipartUploadCommand, options?: SendOptions): Promise<AbortMultipartUploadCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: ListMultipartUploadsCommand, options?: SendOptions): Promise<ListMultipartUploadsCommandOutput>;
  send(command: PutObjectRetentionCommand, options?: SendOptions): Promise<PutObjectRetentionCommandOutput>;
  send(command: FakeCommand, options?: SendOptions): Promise<FakeOutput> {
    return this.handle(command, options);
  }

  /** `send` for a caller that holds a union of commands (FakeS3Bucket). */
  async handle(command: FakeCommand, options?: SendOptions): Promise<FakeOutput> {
    this.commands.push(command);
    const signal = options?.abortSignal;
    if (command instanceof UploadPartCommand || command instanceof PutObjectCommand) {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        const outcome = await untilAborted(Promise.resolve(this.hook(command, signal)), signal);
        if (command instanceof UploadPartCommand) return await this.uploadPart(command);
        const output = await this.putObject(command);
        if (outcome === 'lose-response') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return output;
      } finally {
        this.inFlight -= 1;
      }
    }
    // As the SDK does, the caller's signal ends a request the store holds.
    const outcome = await untilAborted(Promise.resolve(this.hook(command, signal)), signal);
    const output = this.answer(command);
    if (outcome === 'lose-response') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    return output;
  }

  /** The upload with this id, for this key (S3 answers NoSuchUpload when either does not match). */
  private upload(uploadId: string | undefined, key: string | undefined): FakeUpload {
    const upload = uploadId === undefined ? undefined : this.uploads.get(uploadId);
    if (upload === undefined || (key !== undefined && key !== upload.key)) throw s3Error('NoSuchUpload', 404);
    return upload;
  }

  private async uploadPart(command: UploadPartCommand): Promise<UploadPartCommandOutput> {
    const { UploadId, Key, PartNumber, Body } = command.input;
    const upload = this.upload(UploadId, Key);
    if (PartNumber === undefined || !Number.isInteger(PartNumber) || PartNumber < 1 || PartNumber > 10_000)
      throw s3Error('InvalidArgument', 400);
    const bytes = await bodyBytes(Body);
    upload.parts.set(PartNumber, bytes);
    upload.partTimes?.set(PartNumber, this.now());
    this.receivedParts.push({ key: upload.key, partNumber: PartNumber, bytes });
    return { ...metadata, ETag: this.etagFor(bytes, PartNumber) };
  }

  /** A chunk of one part, stored whole (the uploader's PutObject; FakeS3Bucket routes other PUTs to its objects). */
  private async putObject(command: PutObjectCommand): Promise<PutObjectCommandOutput> {
    const { Key = '', Body, StorageClass = 'STANDARD' } = command.input;
    const bytes = await bodyBytes(Body);
    const object = newObject(bytes, { storageClass: StorageClass });
    this.store.set(Key, object);
    this.receivedParts.push({ key: Key, partNumber: 1, bytes });
    return { ...metadata, ETag: etagOf(object) };
  }

  private answer(
    command:
      | CreateMultipartUploadCommand
      | ListPartsCommand
      | CompleteMultipartUploadCommand
      | AbortMultipartUploadCommand
      | HeadObjectCommand
      | ListMultipartUploadsCommand
      | PutObjectRetentionCommand,
  ): FakeOutput {
    if (command instanceof CreateMultipartUploadCommand) {
      // Zero-padded, so one key's uploads sort by id in the order they were created.
      const uploadId = `upload-${String(this.nextId++).padStart(6, '0')}`;
      const { Key = '', StorageClass, ObjectLockMode, ObjectLockRetainUntilDate } = command.input;
      this.uploads.set(uploadId, {
        key: Key,
        parts: new Map(),
        initiated: this.now(),
        partTimes: new Map(),
        ...(StorageClass === undefined ? {} : { storageClass: StorageClass }),
        ...(ObjectLockMode === undefined || ObjectLockRetainUntilDate === undefined
          ? {}
          : { retention: { mode: ObjectLockMode, retainUntil: ObjectLockRetainUntilDate } }),
      });
      return { ...metadata, Bucket: command.input.Bucket, Key, UploadId: uploadId };
    }
    if (command instanceof ListPartsCommand) return this.listParts(command);
    if (command instanceof CompleteMultipartUploadCommand) return this.complete(command);
    if (command instanceof AbortMultipartUploadCommand) {
      this.upload(command.input.UploadId, command.input.Key);
      this.uploads.delete(command.input.UploadId ?? '');
      return { $metadata: { httpStatusCode: 204 } };
    }
    if (command instanceof HeadObjectCommand) return headObject(this.store.get(command.input.Key ?? ''));
    if (command instanceof PutObjectRetentionCommand) return this.versions.putRetention(command);
    return this.listUploads(command);
  }

  /** Parts in number order after PartNumberMarker, at most MaxParts (and `partsPageSize`) of them. */
  private listParts(command: ListPartsCommand): ListPartsCommandOutput {
    const { Bucket, Key, UploadId, PartNumberMarker = '0', MaxParts } = command.input;
    const upload = this.upload(UploadId, Key);
    const marker = Number(PartNumberMarker);
    if (!Number.isInteger(marker) || marker < 0) throw s3Error('InvalidArgument', 400);
    const stored = [...upload.parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([number, bytes]): Part => ({
        PartNumber: number,
        Size: bytes.length,
        ETag: quotedMd5(bytes),
        LastModified: upload.partTimes?.get(number) ?? upload.initiated,
      }));
    const after = this.listPartsFilter(stored).filter((part) => (part.PartNumber ?? 0) > marker);
    const size = pageSize(MaxParts, this.partsPageSize);
    const page = after.slice(0, size);
    const last = page.at(-1);
    return {
      ...metadata,
      Bucket,
      Key: upload.key,
      UploadId,
      PartNumberMarker,
      MaxParts: size,
      IsTruncated: after.length > page.length,
      ...(last === undefined ? {} : { NextPartNumberMarker: String(last.PartNumber), Parts: page }),
      StorageClass: upload.storageClass ?? 'STANDARD',
    };
  }

  private complete(command: CompleteMultipartUploadCommand): CompleteMultipartUploadCommandOutput {
    const { Bucket, Key, UploadId, MultipartUpload } = command.input;
    const upload = this.upload(UploadId, Key);
    const listed = MultipartUpload?.Parts ?? [];
    if (listed.length === 0) throw s3Error('MalformedXML', 400);
    let previous = 0;
    const chosen = listed.map((part, index) => {
      const number = part.PartNumber ?? 0;
      if (number <= previous) throw s3Error('InvalidPartOrder', 400);
      previous = number;
      const bytes = upload.parts.get(number);
      if (bytes === undefined || part.ETag === undefined || unquote(part.ETag) !== md5Hex(bytes)) throw s3Error('InvalidPart', 400);
      if (index < listed.length - 1 && bytes.length < this.minPartSizeBytes) throw s3Error('EntityTooSmall', 400);
      return bytes;
    });
    const etag = multipartEtag(chosen);
    const locked: Partial<FakeObject> =
      upload.retention !== undefined && this.locksOnComplete ? { retention: { ...upload.retention } } : {};
    this.store.set(upload.key, newObject(Buffer.concat(chosen), { storageClass: upload.storageClass ?? 'STANDARD', etag, ...locked }));
    this.uploads.delete(UploadId ?? '');
    return { ...metadata, Bucket, Key: upload.key, ETag: etag };
  }

  /**
   * Sorted by key (UTF-8 bytes), then upload id (creation order here, which is the initiation
   * order S3 documents), paged after KeyMarker, or after UploadIdMarker within KeyMarker's key.
   */
  private listUploads(command: ListMultipartUploadsCommand): ListMultipartUploadsCommandOutput {
    const { Bucket, Prefix, Delimiter, KeyMarker, UploadIdMarker, MaxUploads } = command.input;
    if (Delimiter !== undefined) throw notModeled('ListMultipartUploads Delimiter');
    const after = (key: string, id: string) => {
      if (KeyMarker === undefined || KeyMarker === '') return true;
      const order = compareKeys(key, KeyMarker);
      return order > 0 || (order === 0 && UploadIdMarker !== undefined && UploadIdMarker !== '' && id > UploadIdMarker);
    };
    const matching = [...this.uploads.entries()]
      .map(([uploadId, upload]) => ({
        Key: upload.key,
        UploadId: uploadId,
        Initiated: upload.initiated,
        StorageClass: upload.storageClass ?? 'STANDARD',
      }))
      .filter((upload) => upload.Key.startsWith(Prefix ?? '') && after(upload.Key, upload.UploadId))
      .sort((a, b) => compareKeys(a.Key, b.Key) || (a.UploadId < b.UploadId ? -1 : a.UploadId > b.UploadId ? 1 : 0));
    const size = pageSize(MaxUploads, this.pageSize);
    const page = matching.slice(0, size);
    const last = page.at(-1);
    return {
      ...metadata,
      Bucket,
      ...(Prefix === undefined ? {} : { Prefix }),
      ...(KeyMarker === undefined ? {} : { KeyMarker }),
      ...(UploadIdMarker === undefined ? {} : { UploadIdMarker }),
      MaxUploads: size,
      IsTruncated: matching.length > page.length,
      ...(last === undefined ? {} : { NextKeyMarker: last.Key, NextUploadIdMarker: last.UploadId, Uploads: page }),
    };
  }
}
