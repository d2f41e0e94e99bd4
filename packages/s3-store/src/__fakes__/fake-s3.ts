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
  S3ServiceException,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { MultipartClient, SendOptions } from '../upload/types';

export type FakeCommand =
  | CreateMultipartUploadCommand
  | UploadPartCommand
  | ListPartsCommand
  | CompleteMultipartUploadCommand
  | AbortMultipartUploadCommand
  | HeadObjectCommand
  | ListMultipartUploadsCommand;

type FakeOutput =
  | CreateMultipartUploadCommandOutput
  | UploadPartCommandOutput
  | ListPartsCommandOutput
  | CompleteMultipartUploadCommandOutput
  | AbortMultipartUploadCommandOutput
  | HeadObjectCommandOutput
  | ListMultipartUploadsCommandOutput;

/** An S3 error response as the SDK raises it. */
export function s3Error(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode }, message: `${name} from the fake` });
}

/**
 * Runs before the fake answers a command; throw to fail the call, await to hold it,
 * or return 'lose-response' to carry the command out and then fail as a dropped connection would.
 */
export type FakeHook = (command: FakeCommand, signal: AbortSignal | undefined) => Promise<void> | void | 'lose-response';

interface FakeUpload {
  readonly key: string;
  readonly parts: Map<number, Buffer>;
  readonly initiated: Date;
}

const metadata = { $metadata: { httpStatusCode: 200 } };
const md5 = (bytes: Buffer) => `"${createHash('md5').update(bytes).digest('hex')}"`;

function abortError(signal: AbortSignal): Error {
  const error = new Error(`Request aborted: ${String(signal.reason)}`);
  error.name = 'AbortError';
  return error;
}

/**
 * An in-memory S3 at the SDK boundary: records every command, keeps multipart uploads
 * and completed objects, and counts UploadParts in flight. Part bodies are copied only
 * after the hook returns, as an HTTP request reads its body while it runs, so an
 * uploader that reused a part's buffer too early would store wrong bytes.
 */
export class FakeS3 implements MultipartClient {
  readonly commands: FakeCommand[] = [];
  readonly objects = new Map<string, Buffer>();
  readonly uploads = new Map<string, FakeUpload>();
  hook: FakeHook = () => undefined;
  /** Rewrites what ListParts reports, to stand in for a store that lost or changed a part. */
  listPartsFilter: (parts: Part[]) => Part[] = (parts) => parts;
  /** The ETag UploadPart answers with; return undefined to stand in for a store that sends none. */
  etagFor: (bytes: Buffer, partNumber: number) => string | undefined = (bytes) => md5(bytes);
  /** Every acknowledged UploadPart, in order of acknowledgement. */
  readonly receivedParts: Array<{ key: string; partNumber: number; bytes: Buffer }> = [];
  /** ListMultipartUploads page size, to exercise pagination. */
  pageSize = 1000;
  inFlight = 0;
  maxInFlight = 0;
  private nextId = 1;

  of<C extends FakeCommand>(type: new (...args: never[]) => C): C[] {
    return this.commands.filter((command): command is C => command instanceof type);
  }

  send(command: CreateMultipartUploadCommand, options?: SendOptions): Promise<CreateMultipartUploadCommandOutput>;
  send(command: UploadPartCommand, options?: SendOptions): Promise<UploadPartCommandOutput>;
  send(command: ListPartsCommand, options?: SendOptions): Promise<ListPartsCommandOutput>;
  send(command: CompleteMultipartUploadCommand, options?: SendOptions): Promise<CompleteMultipartUploadCommandOutput>;
  send(command: AbortMultipartUploadCommand, options?: SendOptions): Promise<AbortMultipartUploadCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: ListMultipartUploadsCommand, options?: SendOptions): Promise<ListMultipartUploadsCommandOutput>;
  async send(command: FakeCommand, options?: SendOptions): Promise<FakeOutput> {
    this.commands.push(command);
    const signal = options?.abortSignal;
    if (!(command instanceof UploadPartCommand)) {
      const outcome = await this.hook(command, signal);
      const output = this.answer(command);
      if (outcome === 'lose-response') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return output;
    }
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await untilAborted(Promise.resolve(this.hook(command, signal)).then(() => undefined), signal);
      return await this.uploadPart(command);
    } finally {
      this.inFlight -= 1;
    }
  }

  private upload(uploadId: string | undefined): FakeUpload {
    const upload = uploadId === undefined ? undefined : this.uploads.get(uploadId);
    if (upload === undefined) throw s3Error('NoSuchUpload', 404);
    return upload;
  }

  private async uploadPart(command: UploadPartCommand): Promise<UploadPartCommandOutput> {
    const { UploadId, PartNumber, Body } = command.input;
    const upload = this.upload(UploadId);
    const bytes = Buffer.isBuffer(Body) ? Buffer.from(Body) : Body instanceof Readable ? await buffer(Body) : undefined;
    if (bytes === undefined || PartNumber === undefined) throw s3Error('InvalidRequest', 400);
    upload.parts.set(PartNumber, bytes);
    this.receivedParts.push({ key: upload.key, partNumber: PartNumber, bytes });
    return { ...metadata, ETag: this.etagFor(bytes, PartNumber) };
  }

  private answer(command: Exclude<FakeCommand, UploadPartCommand>): FakeOutput {
    if (command instanceof CreateMultipartUploadCommand) {
      const uploadId = `upload-${this.nextId++}`;
      this.uploads.set(uploadId, { key: command.input.Key ?? '', parts: new Map(), initiated: new Date() });
      return { ...metadata, UploadId: uploadId };
    }
    if (command instanceof ListPartsCommand) {
      const parts = [...this.upload(command.input.UploadId).parts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([number, bytes]): Part => ({ PartNumber: number, Size: bytes.length, ETag: md5(bytes) }));
      return { ...metadata, Parts: this.listPartsFilter(parts), IsTruncated: false };
    }
    if (command instanceof CompleteMultipartUploadCommand) {
      const upload = this.upload(command.input.UploadId);
      const listed = command.input.MultipartUpload?.Parts ?? [];
      const bytes = Buffer.concat(listed.map((part) => upload.parts.get(part.PartNumber ?? 0) ?? Buffer.alloc(0)));
      this.objects.set(upload.key, bytes);
      this.uploads.delete(command.input.UploadId ?? '');
      return { ...metadata, ETag: `"${createHash('md5').update(bytes).digest('hex')}-${listed.length}"` };
    }
    if (command instanceof AbortMultipartUploadCommand) {
      this.upload(command.input.UploadId);
      this.uploads.delete(command.input.UploadId ?? '');
      return metadata;
    }
    if (command instanceof HeadObjectCommand) {
      const object = this.objects.get(command.input.Key ?? '');
      if (object === undefined) throw s3Error('NotFound', 404);
      return { ...metadata, ContentLength: object.length, ETag: md5(object) };
    }
    return this.listUploads(command);
  }

  /** Sorted by key then upload id, paged after KeyMarker/UploadIdMarker as S3 does. */
  private listUploads(command: ListMultipartUploadsCommand): ListMultipartUploadsCommandOutput {
    const { Prefix = '', KeyMarker, UploadIdMarker = '' } = command.input;
    const after = (key: string, id: string) => KeyMarker === undefined || key > KeyMarker || (key === KeyMarker && id > UploadIdMarker);
    const matching = [...this.uploads.entries()]
      .map(([uploadId, upload]) => ({ Key: upload.key, UploadId: uploadId, Initiated: upload.initiated }))
      .filter((upload) => upload.Key.startsWith(Prefix) && after(upload.Key, upload.UploadId))
      .sort((a, b) => (a.Key === b.Key ? (a.UploadId < b.UploadId ? -1 : 1) : a.Key < b.Key ? -1 : 1));
    const page = matching.slice(0, this.pageSize);
    const last = page[page.length - 1];
    const truncated = matching.length > page.length && last !== undefined;
    return { ...metadata, Uploads: page, IsTruncated: truncated, ...(truncated ? { NextKeyMarker: last.Key, NextUploadIdMarker: last.UploadId } : {}) };
  }
}

/** Like the SDK's HTTP handler: an aborted signal fails the request at once. */
export async function untilAborted(work: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return work;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
