import {
  type ArchiveStatus,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  RestoreObjectCommand,
  type RestoreObjectCommandOutput,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { addAbortSignal, Readable } from 'node:stream';
import type { RangedGetOutput } from '../download/types';
import type { SendOptions } from '../upload/types';
import { s3Error, untilAborted } from './fake-s3';

export interface FakeObject {
  bytes: Buffer;
  storageClass: StorageClass;
  /** Intelligent-Tiering's archive tiers; HeadObject reports it as S3 does. */
  archiveStatus?: ArchiveStatus;
  restore: 'none' | 'ongoing' | 'restored';
  /** Replaces the x-amz-restore header HeadObject reports, to stand in for a store that sends something odd. */
  restoreHeader?: string;
  /** What ListObjectsV2 reports as LastModified. */
  lastModified: Date;
}

export type ObjectCommand = GetObjectCommand | HeadObjectCommand | RestoreObjectCommand | ListObjectsV2Command | DeleteObjectsCommand;

/** A per-key failure DeleteObjects reports in its Errors list (the request itself succeeds). */
export interface DeleteKeyError {
  readonly Code: string;
  readonly Message: string;
}

/** Runs before the fake answers; throw to fail the call, await to hold it. A held GET fails when its signal aborts. */
export type ObjectHook = (command: ObjectCommand, signal: AbortSignal | undefined) => Promise<void> | void;

const ok = { $metadata: { httpStatusCode: 200 } };
const EXPIRY = 'Fri, 21 Dec 2012 00:00:00 GMT';

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
  object.storageClass === 'GLACIER' || object.storageClass === 'DEEP_ARCHIVE' || (object.storageClass === 'INTELLIGENT_TIERING' && object.archiveStatus !== undefined);

/**
 * An in-memory S3 for reads and thaws at the SDK boundary: ranged GetObject (206 with
 * Content-Range, 416 past the end, InvalidObjectState for archived objects not
 * restored), HeadObject with StorageClass, ArchiveStatus and x-amz-restore, and
 * RestoreObject (409 RestoreAlreadyInProgress while one runs). Counts GETs whose body
 * is still open, and records GETs aborted by their signal.
 */
export class FakeObjectS3 {
  readonly commands: ObjectCommand[] = [];
  readonly objects = new Map<string, FakeObject>();
  hook: ObjectHook = () => undefined;
  /** The body a GET answers with; replace to cut it short or break it mid-way. */
  bodyFor: (bytes: Buffer, command: GetObjectCommand) => Readable = (bytes) => piecesOf(bytes, 1000, (count) => (this.bytesServed += count));
  getsInFlight = 0;
  maxGetsInFlight = 0;
  /** Body bytes handed out by the default body. */
  bytesServed = 0;
  /** Answer ranged GETs without Content-Range, as a store that leaves it out would. */
  omitContentRange = false;
  /** The Range of every GET aborted while held or while its body was open. */
  readonly abortedGets: string[] = [];
  /** ListObjectsV2 page size, to exercise pagination. */
  listPageSize = 1000;
  /** The error DeleteObjects reports for a key instead of deleting it; undefined deletes it. */
  deleteErrorFor: (key: string) => DeleteKeyError | undefined = () => undefined;

  put(key: string, bytes: Buffer, options: Partial<Omit<FakeObject, 'bytes'>> = {}): void {
    this.objects.set(key, { bytes, storageClass: 'STANDARD', restore: 'none', lastModified: new Date(), ...options });
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

  send(command: GetObjectCommand, options?: SendOptions): Promise<RangedGetOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: RestoreObjectCommand, options?: SendOptions): Promise<RestoreObjectCommandOutput>;
  send(command: ListObjectsV2Command, options?: SendOptions): Promise<ListObjectsV2CommandOutput>;
  send(command: DeleteObjectsCommand, options?: SendOptions): Promise<DeleteObjectsCommandOutput>;
  async send(
    command: ObjectCommand,
    options?: SendOptions,
  ): Promise<RangedGetOutput | HeadObjectCommandOutput | RestoreObjectCommandOutput | ListObjectsV2CommandOutput | DeleteObjectsCommandOutput> {
    this.commands.push(command);
    const signal = options?.abortSignal;
    if (command instanceof GetObjectCommand) return this.get(command, signal);
    await this.hook(command, signal);
    if (command instanceof ListObjectsV2Command) return this.list(command);
    if (command instanceof DeleteObjectsCommand) return this.delete(command);
    const object = this.objects.get(command.input.Key ?? '');
    if (command instanceof HeadObjectCommand) {
      if (object === undefined) throw s3Error('NotFound', 404);
      return { ...ok, ContentLength: object.bytes.length, ...this.archiveHeaders(object) };
    }
    return this.restoreObject(object);
  }

  /** Keys in order, paged after ContinuationToken (here simply the last key of the previous page). */
  private list(command: ListObjectsV2Command): ListObjectsV2CommandOutput {
    const { Prefix = '', ContinuationToken } = command.input;
    const matching = [...this.objects.keys()].filter((key) => key.startsWith(Prefix) && (ContinuationToken === undefined || key > ContinuationToken)).sort();
    const page = matching.slice(0, this.listPageSize);
    const truncated = matching.length > page.length;
    const Contents = page.map((key) => {
      const object = this.objects.get(key);
      return { Key: key, Size: object?.bytes.length, LastModified: object?.lastModified, StorageClass: object?.storageClass };
    });
    return { ...ok, Contents, KeyCount: page.length, IsTruncated: truncated, ...(truncated ? { NextContinuationToken: page[page.length - 1] } : {}) };
  }

  /** Deletes the keys (a missing key counts as deleted, as in S3) and reports per-key errors. */
  private delete(command: DeleteObjectsCommand): DeleteObjectsCommandOutput {
    const keys = (command.input.Delete?.Objects ?? []).map((object) => object.Key ?? '');
    if (keys.length > 1000) throw s3Error('MalformedXML', 400);
    const Errors = keys.flatMap((key) => {
      const error = this.deleteErrorFor(key);
      if (error === undefined) {
        this.objects.delete(key);
        return [];
      }
      return [{ Key: key, ...error }];
    });
    const quiet = command.input.Delete?.Quiet === true;
    const failed = new Set(Errors.map((error) => error.Key));
    return { ...ok, Errors, ...(quiet ? {} : { Deleted: keys.filter((key) => !failed.has(key)).map((Key) => ({ Key })) }) };
  }

  private archiveHeaders(object: FakeObject): Pick<HeadObjectCommandOutput, 'StorageClass' | 'ArchiveStatus' | 'Restore'> {
    const restore = object.restoreHeader ?? { none: undefined, ongoing: 'ongoing-request="true"', restored: `ongoing-request="false", expiry-date="${EXPIRY}"` }[object.restore];
    return {
      // S3 leaves out x-amz-storage-class for STANDARD.
      ...(object.storageClass === 'STANDARD' ? {} : { StorageClass: object.storageClass }),
      ...(object.archiveStatus === undefined ? {} : { ArchiveStatus: object.archiveStatus }),
      ...(restore === undefined ? {} : { Restore: restore }),
    };
  }

  private restoreObject(object: FakeObject | undefined): RestoreObjectCommandOutput {
    if (object === undefined) throw s3Error('NoSuchKey', 404);
    if (object.storageClass === 'INTELLIGENT_TIERING' && object.archiveStatus === undefined) throw s3Error('ObjectAlreadyInActiveTierError', 403);
    if (!isArchived(object) && object.restore !== 'restored') throw s3Error('InvalidObjectState', 403);
    if (object.restore === 'ongoing') throw s3Error('RestoreAlreadyInProgress', 409);
    if (object.restore === 'restored') return ok;
    object.restore = 'ongoing';
    return { $metadata: { httpStatusCode: 202 } };
  }

  private async get(command: GetObjectCommand, signal: AbortSignal | undefined): Promise<RangedGetOutput> {
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
      const object = this.objects.get(command.input.Key ?? '');
      if (object === undefined) throw s3Error('NoSuchKey', 404);
      if (isArchived(object) && object.restore !== 'restored') throw s3Error('InvalidObjectState', 403);
      const match = /^bytes=(\d+)-(\d+)$/.exec(range);
      if (match === null) throw s3Error('InvalidArgument', 400);
      const first = Number(match[1]);
      if (first >= object.bytes.length) throw s3Error('InvalidRange', 416);
      const bytes = object.bytes.subarray(first, Math.min(Number(match[2]) + 1, object.bytes.length));
      const body = this.bodyFor(bytes, command);
      // The SDK's handler destroys the socket, and with it the body, when the request's signal aborts.
      if (signal !== undefined) addAbortSignal(signal, body);
      body.once('close', close);
      const contentRange = `bytes ${first}-${first + bytes.length - 1}/${object.bytes.length}`;
      return { Body: body, ContentLength: bytes.length, ...(this.omitContentRange ? {} : { ContentRange: contentRange }) };
    } catch (error) {
      close();
      throw error;
    }
  }
}
