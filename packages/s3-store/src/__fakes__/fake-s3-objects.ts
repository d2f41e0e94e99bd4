import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type PutObjectCommandOutput,
  RestoreObjectCommand,
  type RestoreObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { addAbortSignal, Readable } from 'node:stream';
import type { SendOptions } from '../upload/types';
import {
  bodyBytes,
  compareKeys,
  etagOf,
  type FakeObject,
  type FakeObjects,
  headObject,
  newObject,
  notModeled,
  objectHeaders,
  s3Error,
  sdkStream,
  selectRange,
  unquote,
  untilAborted,
} from './fake-store';

export type { FakeObject, FakeObjects };

export type ObjectCommand =
  GetObjectCommand | HeadObjectCommand | RestoreObjectCommand | ListObjectsV2Command | DeleteObjectsCommand | PutObjectCommand;

export type ObjectOutput =
  | GetObjectCommandOutput
  | HeadObjectCommandOutput
  | RestoreObjectCommandOutput
  | ListObjectsV2CommandOutput
  | DeleteObjectsCommandOutput
  | PutObjectCommandOutput;

/** A per-key failure DeleteObjects reports in its Errors list (the request itself succeeds). */
export interface DeleteKeyError {
  readonly Code: string;
  readonly Message: string;
}

/** Runs before the fake answers; throw to fail the call, await to hold it. A held GET fails when its signal aborts. */
export type ObjectHook = (command: ObjectCommand, signal: AbortSignal | undefined) => Promise<void> | void;

const ok = { $metadata: { httpStatusCode: 200 } };
/** S3's largest page of keys, whatever MaxKeys asks for. */
const MAX_KEYS = 1000;

/** A body that delivers `bytes` in pieces of `size`, counting what it hands out. */
export function piecesOf(bytes: Buffer, size = 1000, onServed: (count: number) => void = () => undefined): Readable {
  async function* pieces() {
    for (let offset = 0; offset < bytes.length; offset += size) {
      const piece = bytes.subarray(offset, offset + size);
      onServed(piece.length);
      yield piece;
    }
  }
  return Readable.from(pieces(), { objectMode: false });
}

const isArchived = (object: FakeObject) =>
  object.storageClass === 'GLACIER' ||
  object.storageClass === 'DEEP_ARCHIVE' ||
  (object.storageClass === 'INTELLIGENT_TIERING' && object.archiveStatus !== undefined);

/**
 * An in-memory S3 for whole objects at the SDK boundary: PutObject (412 PreconditionFailed
 * for `IfNoneMatch: '*'` on an existing key), GetObject whole or ranged (206 with
 * Content-Range, 416 past the end, InvalidObjectState for archived objects not restored),
 * HeadObject with StorageClass, ArchiveStatus and x-amz-restore, RestoreObject (409
 * RestoreAlreadyInProgress while one runs), ListObjectsV2 and DeleteObjects as S3 pages and
 * reports them. Counts GETs whose body is still open, and records GETs aborted by their signal.
 */
export class FakeObjectS3 {
  readonly commands: ObjectCommand[] = [];
  hook: ObjectHook = () => undefined;
  /** The body a GET answers with; replace to cut it short or break it mid-way. */
  bodyFor: (bytes: Buffer, command: GetObjectCommand) => Readable = (bytes) =>
    piecesOf(bytes, 1000, (count) => (this.bytesServed += count));
  getsInFlight = 0;
  maxGetsInFlight = 0;
  /** Body bytes handed out by the default body. */
  bytesServed = 0;
  /** Answer ranged GETs without Content-Range, as a store that leaves it out would. */
  omitContentRange = false;
  /** The Range of every GET aborted while held or while its body was open. */
  readonly abortedGets: string[] = [];
  /** ListObjectsV2 page size (below MaxKeys), to exercise pagination. */
  listPageSize = MAX_KEYS;
  /** The error DeleteObjects reports for a key instead of deleting it; undefined deletes it. */
  deleteErrorFor: (key: string) => DeleteKeyError | undefined = () => undefined;
  /** Where a GET, HEAD or RestoreObject naming a version finds it (FakeS3Bucket's versions); none by default. */
  findVersion: (key: string, versionId: string) => FakeObject | undefined = () => undefined;

  /** `objects` may be shared: FakeS3Bucket gives this fake and its FakeS3 the same map. */
  constructor(readonly objects: FakeObjects = new Map()) {}

  put(key: string, bytes: Buffer, options: Partial<Omit<FakeObject, 'bytes'>> = {}): void {
    this.objects.set(key, newObject(bytes, options));
  }

  /** The thaw of `key` finished: GETs succeed, HeadObject reports it restored. */
  finishRestore(key: string): void {
    const object = this.objects.get(key);
    if (object === undefined) throw new Error(`no object ${key}`);
    object.restore = 'restored';
    // A restored Intelligent-Tiering object moves back to the Frequent Access tier.
    if (object.storageClass === 'INTELLIGENT_TIERING') delete object.archiveStatus;
  }

  of<C extends ObjectCommand>(type: new (...args: never[]) => C): C[] {
    return this.commands.filter((command): command is C => command instanceof type);
  }

  send(command: GetObjectCommand, options?: SendOptions): Promise<GetObjectCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: RestoreObjectCommand, options?: SendOptions): Promise<RestoreObjectCommandOutput>;
  send(command: ListObjectsV2Command, options?: SendOptions): Promise<ListObjectsV2CommandOutput>;
  send(command: DeleteObjectsCommand, options?: SendOptions): Promise<DeleteObjectsCommandOutput>;
  send(command: PutObjectCommand, options?: SendOptions): Promise<PutObjectCommandOutput>;
  send(command: ObjectCommand, options?: SendOptions): Promise<ObjectOutput> {
    return this.handle(command, options);
  }

  /** `send` for a caller that holds a union of commands (FakeS3Bucket). */
  async handle(command: ObjectCommand, options?: SendOptions): Promise<ObjectOutput> {
    this.commands.push(command);
    const signal = options?.abortSignal;
    if (command instanceof GetObjectCommand) return this.get(command, signal);
    // As the SDK does, the caller's signal ends a request the store holds.
    await untilAborted(Promise.resolve(this.hook(command, signal)), signal);
    if (command instanceof ListObjectsV2Command) return this.list(command);
    if (command instanceof DeleteObjectsCommand) return this.delete(command);
    if (command instanceof PutObjectCommand) return this.putObject(command);
    const object = this.lookUp(command.input);
    if (command instanceof HeadObjectCommand) return headObject(object);
    return this.restoreObject(object);
  }

  /** The object a read names: the key's current version, or the version it asks for. */
  private lookUp(input: { readonly Key?: string; readonly VersionId?: string }): FakeObject | undefined {
    const key = input.Key ?? '';
    return input.VersionId === undefined ? this.objects.get(key) : this.findVersion(key, input.VersionId);
  }

  private async putObject(command: PutObjectCommand): Promise<PutObjectCommandOutput> {
    const {
      Key = '',
      Body,
      IfNoneMatch,
      IfMatch,
      StorageClass = 'STANDARD',
      ContentMD5,
      ObjectLockMode,
      ObjectLockRetainUntilDate,
    } = command.input;
    const bytes = await bodyBytes(Body);
    // As S3 and Ceph RGW check it.
    if (ContentMD5 !== undefined && ContentMD5 !== createHash('md5').update(bytes).digest('base64')) throw s3Error('BadDigest', 400);
    const existing = this.objects.get(Key);
    if (IfNoneMatch !== undefined) {
      if (IfNoneMatch !== '*') throw notModeled(`PutObject If-None-Match other than '*'`);
      if (existing !== undefined) throw s3Error('PreconditionFailed', 412);
    }
    if (IfMatch !== undefined) {
      if (existing === undefined) throw s3Error('NoSuchKey', 404);
      if (IfMatch !== '*' && unquote(IfMatch) !== unquote(etagOf(existing))) throw s3Error('PreconditionFailed', 412);
    }
    const retention =
      ObjectLockMode === undefined || ObjectLockRetainUntilDate === undefined
        ? {}
        : { retention: { mode: ObjectLockMode, retainUntil: ObjectLockRetainUntilDate } };
    const object = newObject(bytes, { storageClass: StorageClass, ...retention });
    this.objects.set(Key, object);
    return { ...ok, ETag: etagOf(object) };
  }

  /**
   * Keys under Prefix in UTF-8 byte order, after StartAfter or (which wins) the
   * continuation token, at most MaxKeys (and `listPageSize`). The token is the last key of
   * the page before, as Ceph RGW's is; S3's tokens are opaque, so callers cannot tell.
   */
  private list(command: ListObjectsV2Command): ListObjectsV2CommandOutput {
    const { Bucket, Prefix = '', Delimiter, ContinuationToken, StartAfter, MaxKeys } = command.input;
    if (Delimiter !== undefined) throw notModeled('ListObjectsV2 Delimiter');
    const marker = ContinuationToken ?? StartAfter;
    const matching = [...this.objects.keys()]
      .filter((key) => key.startsWith(Prefix) && (marker === undefined || compareKeys(key, marker) > 0))
      .sort(compareKeys);
    const size = Math.max(0, Math.min(MaxKeys ?? MAX_KEYS, MAX_KEYS, this.listPageSize));
    const page = matching.slice(0, size);
    const truncated = matching.length > page.length;
    const Contents = page.map((key) => {
      const object = this.objects.get(key);
      if (object === undefined) throw new Error(`listed ${key} vanished`);
      return {
        Key: key,
        LastModified: object.lastModified,
        ETag: etagOf(object),
        Size: object.bytes.length,
        StorageClass: object.storageClass,
      };
    });
    return {
      ...ok,
      Name: Bucket,
      Prefix,
      MaxKeys: size,
      KeyCount: page.length,
      IsTruncated: truncated,
      ...(Contents.length === 0 ? {} : { Contents }),
      ...(ContinuationToken === undefined ? {} : { ContinuationToken }),
      ...(StartAfter === undefined ? {} : { StartAfter }),
      ...(truncated ? { NextContinuationToken: page.at(-1) } : {}),
    };
  }

  /** Deletes the keys (a missing key counts as deleted, as in S3) and reports per-key errors. */
  private delete(command: DeleteObjectsCommand): DeleteObjectsCommandOutput {
    const keys = (command.input.Delete?.Objects ?? []).map((object) => object.Key ?? '');
    if (keys.length === 0 || keys.length > 1000) throw s3Error('MalformedXML', 400);
    const Errors = keys.flatMap((key) => {
      const error = this.deleteErrorFor(key);
      if (error === undefined) {
        this.objects.delete(key);
        return [];
      }
      return [{ Key: key, ...error }];
    });
    const failed = new Set(Errors.map((error) => error.Key));
    // Quiet mode leaves out the keys deleted; S3 sends neither list when it is empty.
    const Deleted = command.input.Delete?.Quiet === true ? [] : keys.filter((key) => !failed.has(key)).map((Key) => ({ Key }));
    return { ...ok, ...(Deleted.length === 0 ? {} : { Deleted }), ...(Errors.length === 0 ? {} : { Errors }) };
  }

  private restoreObject(object: FakeObject | undefined): RestoreObjectCommandOutput {
    if (object === undefined) throw s3Error('NoSuchKey', 404);
    if (object.storageClass === 'INTELLIGENT_TIERING' && object.archiveStatus === undefined)
      throw s3Error('ObjectAlreadyInActiveTierError', 403);
    if (!isArchived(object) && object.restore !== 'restored') throw s3Error('InvalidObjectState', 403);
    if (object.restore === 'ongoing') throw s3Error('RestoreAlreadyInProgress', 409);
    if (object.restore === 'restored') return ok;
    object.restore = 'ongoing';
    return { $metadata: { httpStatusCode: 202 } };
  }

  private async get(command: GetObjectCommand, signal: AbortSignal | undefined): Promise<GetObjectCommandOutput> {
    const range = command.input.Range ?? '';
    let open = true;
    const onAbort = () => {
      if (open) this.abortedGets.push(range);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const close = () => {
      if (!open) return;
      open = false;
      this.getsInFlight -= 1;
      signal?.removeEventListener('abort', onAbort);
    };
    this.getsInFlight += 1;
    this.maxGetsInFlight = Math.max(this.maxGetsInFlight, this.getsInFlight);
    try {
      await untilAborted(Promise.resolve(this.hook(command, signal)), signal);
      const object = this.lookUp(command.input);
      if (object === undefined) throw s3Error('NoSuchKey', 404);
      if (isArchived(object) && object.restore !== 'restored') throw s3Error('InvalidObjectState', 403);
      const { first, last, partial } = selectRange(command.input.Range, object.bytes.length);
      const bytes = object.bytes.subarray(first, last + 1);
      const body = this.bodyFor(bytes, command);
      // The SDK's handler destroys the socket, and with it the body, when the request's signal aborts.
      if (signal !== undefined) addAbortSignal(signal, body);
      body.once('close', close);
      const contentRange = partial && !this.omitContentRange ? { ContentRange: `bytes ${first}-${last}/${object.bytes.length}` } : {};
      return {
        $metadata: { httpStatusCode: partial ? 206 : 200 },
        Body: sdkStream(body),
        ContentLength: bytes.length,
        ...contentRange,
        ...objectHeaders(object),
      };
    } catch (error) {
      close();
      throw error;
    }
  }
}
