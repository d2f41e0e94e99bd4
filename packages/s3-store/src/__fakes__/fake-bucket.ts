import {
  AbortMultipartUploadCommand,
  type AbortMultipartUploadCommandOutput,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandOutput,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetBucketVersioningCommand,
  type GetBucketVersioningCommandOutput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  GetObjectLockConfigurationCommand,
  type GetObjectLockConfigurationCommandOutput,
  GetObjectRetentionCommand,
  type GetObjectRetentionCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  ListPartsCommand,
  type ListPartsCommandOutput,
  PutObjectCommand,
  type PutObjectCommandOutput,
  PutObjectRetentionCommand,
  type PutObjectRetentionCommandOutput,
  RestoreObjectCommand,
  type RestoreObjectCommandOutput,
  S3Client,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import type { ArchiveClient } from '../archive/types';
import type { ChunkCheckClient } from '../bucket/check-chunks';
import type { DeleteClient } from '../bucket/delete-objects';
import type { ListingClient } from '../bucket/listing';
import type { ObjectReadClient } from '../download/types';
import type { BucketClient } from '../s3-bucket';
import type { MultipartClient, SendOptions } from '../upload/types';
import { type FakeCommand, type FakeOutput, FakeS3 } from './fake-s3';
import { type FakeObject, FakeObjectS3, type ObjectCommand, type ObjectOutput } from './fake-s3-objects';
import { type FakeObjects, s3Error, untilAborted } from './fake-store';
import { FakeVersions } from './fake-versions';

export type { BucketClient };

/** The bucket-level reads (versioning, Object Lock), answered from `FakeS3Bucket.settings`. */
type SettingsCommand = GetBucketVersioningCommand | GetObjectLockConfigurationCommand;
type SettingsOutput = GetBucketVersioningCommandOutput | GetObjectLockConfigurationCommandOutput;
/** The version calls, answered by `FakeS3Bucket.versions`. */
type VersionCommand = ListObjectVersionsCommand | GetObjectRetentionCommand;
type VersionOutput = ListObjectVersionsCommandOutput | GetObjectRetentionCommandOutput;
export type BucketCommand = FakeCommand | ObjectCommand | SettingsCommand | VersionCommand;
export type BucketOutput = FakeOutput | ObjectOutput | SettingsOutput | VersionOutput;

/** What the fake answers for the bucket's settings; a bucket made without either by default. */
export interface FakeBucketSettings {
  versioning?: 'Enabled' | 'Suspended';
  objectLock?: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly days: number };
}

const MULTIPART = [
  CreateMultipartUploadCommand,
  UploadPartCommand,
  ListPartsCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutObjectRetentionCommand,
];
const OBJECT = [PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, DeleteObjectsCommand, RestoreObjectCommand];

const SETTINGS = [GetBucketVersioningCommand, GetObjectLockConfigurationCommand];
const VERSIONS = [ListObjectVersionsCommand, GetObjectRetentionCommand];

const isMultipart = (command: BucketCommand): command is Exclude<FakeCommand, HeadObjectCommand> =>
  MULTIPART.some((type) => command instanceof type);
const isSettings = (command: BucketCommand): command is SettingsCommand => SETTINGS.some((type) => command instanceof type);
const isVersionCommand = (command: BucketCommand): command is VersionCommand => VERSIONS.some((type) => command instanceof type);
const isBucketCommand = (command: unknown): command is BucketCommand =>
  [...MULTIPART, ...OBJECT, ...SETTINGS, ...VERSIONS].some((type) => command instanceof type);
/** A DeleteObjects naming versions deletes history (FakeVersions); one naming keys only acts as before. */
const namesVersions = (command: DeleteObjectsCommand) =>
  (command.input.Delete?.Objects ?? []).some((object) => object.VersionId !== undefined);

/**
 * One in-memory bucket answering every call the project sends, for orchestration tests:
 * a FakeS3 (multipart uploads) and a FakeObjectS3 (everything else, HeadObject included)
 * over one object map, so a completed upload is what GetObject, HeadObject and
 * ListObjectsV2 see and DeleteObjects removes. Their hooks, counters and page sizes stay
 * on them: `multipart.hook`, `objectOps.hook`, `multipart.partsPageSize`, and so on.
 * Objects keep the storage class they were written with; an archived one (DEEP_ARCHIVE)
 * needs RestoreObject and `objectOps.finishRestore` before it can be read, as on S3.
 * `versions` holds a versioned bucket's history (noncurrent versions, delete markers) and
 * answers ListObjectVersions, version deletes, reads naming a version, and retention.
 */
export class FakeS3Bucket
  implements BucketClient, MultipartClient, ObjectReadClient, ArchiveClient, ListingClient, DeleteClient, ChunkCheckClient
{
  /** Every object in the bucket, by key. */
  readonly objects: FakeObjects = new Map();
  /** Noncurrent versions and delete markers; `hide(key)` is what a plain DeleteObject does in a versioned bucket. */
  readonly versions = new FakeVersions(this.objects);
  readonly multipart = new FakeS3(this.objects, this.versions);
  readonly objectOps = new FakeObjectS3(this.objects);
  /** Every command sent, in order. */
  readonly commands: BucketCommand[] = [];
  /** Versioning and Object Lock as GetBucketVersioning and GetObjectLockConfiguration report them. */
  readonly settings: FakeBucketSettings = {};

  constructor() {
    this.objectOps.findVersion = (key, versionId) => this.versions.find(key, versionId);
  }

  /** Stores an object directly, as a setup step (no command is recorded). */
  put(key: string, bytes: Buffer, options: Partial<Omit<FakeObject, 'bytes'>> = {}): void {
    this.objectOps.put(key, bytes, options);
  }

  /** Multipart uploads not yet completed or aborted, by upload id. */
  get uploads(): FakeS3['uploads'] {
    return this.multipart.uploads;
  }

  of<C extends BucketCommand>(type: new (...args: never[]) => C): C[] {
    return this.commands.filter((command): command is C => command instanceof type);
  }

  send(command: PutObjectCommand, options?: SendOptions): Promise<PutObjectCommandOutput>;
  send(command: GetObjectCommand, options?: SendOptions): Promise<GetObjectCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: ListObjectsV2Command, options?: SendOptions): Promise<ListObjectsV2CommandOutput>;
  send(command: DeleteObjectsCommand, options?: SendOptions): Promise<DeleteObjectsCommandOutput>;
  send(command: RestoreObjectCommand, options?: SendOptions): Promise<RestoreObjectCommandOutput>;
  send(command: CreateMultipartUploadCommand, options?: SendOptions): Promise<CreateMultipartUploadCommandOutput>;
  send(command: UploadPartCommand, options?: SendOptions): Promise<UploadPartCommandOutput>;
  send(command: ListPartsCommand, options?: SendOptions): Promise<ListPartsCommandOutput>;
  send(command: CompleteMultipartUploadCommand, options?: SendOptions): Promise<CompleteMultipartUploadCommandOutput>;
  send(command: AbortMultipartUploadCommand, options?: SendOptions): Promise<AbortMultipartUploadCommandOutput>;
  send(command: ListMultipartUploadsCommand, options?: SendOptions): Promise<ListMultipartUploadsCommandOutput>;
  send(command: GetBucketVersioningCommand, options?: SendOptions): Promise<GetBucketVersioningCommandOutput>;
  send(command: GetObjectLockConfigurationCommand, options?: SendOptions): Promise<GetObjectLockConfigurationCommandOutput>;
  send(command: ListObjectVersionsCommand, options?: SendOptions): Promise<ListObjectVersionsCommandOutput>;
  send(command: GetObjectRetentionCommand, options?: SendOptions): Promise<GetObjectRetentionCommandOutput>;
  send(command: PutObjectRetentionCommand, options?: SendOptions): Promise<PutObjectRetentionCommandOutput>;
  send(command: BucketCommand, options?: SendOptions): Promise<BucketOutput> {
    return this.handle(command, options);
  }

  /** The test's hook on a command; as the SDK does, the caller's signal ends a request the store holds. */
  private async held(command: ObjectCommand, signal: AbortSignal | undefined): Promise<void> {
    await untilAborted(Promise.resolve(this.objectOps.hook(command, signal)), signal);
  }

  /** `send` for a caller that holds a union of commands. */
  async handle(command: BucketCommand, options?: SendOptions): Promise<BucketOutput> {
    this.commands.push(command);
    if (isSettings(command)) {
      await this.held(command, options?.abortSignal);
      return this.answerSettings(command);
    }
    if (isVersionCommand(command)) {
      await this.held(command, options?.abortSignal);
      return command instanceof ListObjectVersionsCommand ? this.versions.list(command) : this.versions.getRetention(command);
    }
    if (command instanceof DeleteObjectsCommand && namesVersions(command)) {
      await this.held(command, options?.abortSignal);
      return this.versions.delete(command);
    }
    return isMultipart(command) ? this.multipart.handle(command, options) : this.objectOps.handle(command, options);
  }

  private async answerSettings(command: SettingsCommand): Promise<SettingsOutput> {
    const $metadata = { httpStatusCode: 200 };
    if (command instanceof GetBucketVersioningCommand)
      return { $metadata, ...(this.settings.versioning === undefined ? {} : { Status: this.settings.versioning }) };
    const lock = this.settings.objectLock;
    // As S3 answers for a bucket made without Object Lock.
    if (lock === undefined) throw s3Error('ObjectLockConfigurationNotFoundError', 404);
    return {
      $metadata,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } } },
    };
  }

  /**
   * A real S3Client that this bucket answers, for code typed against S3Client itself
   * (the libraries' `deps.client`): a middleware at the front of its stack hands each command, and its
   * abort signal, to `send`, so nothing is signed or leaves the process. The SDK puts
   * both in the handler context's smithy section (marked internal, so this is the one
   * place that would change if the SDK moved them).
   */
  asS3Client(): S3Client {
    const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' } });
    client.middlewareStack.add(
      (_next, context) => async () => {
        const smithy = context.__smithy_context;
        const command: unknown = smithy?.commandInstance;
        if (!isBucketCommand(command)) throw new Error(`FakeS3Bucket does not answer ${context.commandName ?? 'this command'}`);
        const abortSignal = smithy?.abortSignal instanceof AbortSignal ? smithy.abortSignal : undefined;
        return { output: await this.handle(command, { abortSignal }), response: undefined };
      },
      { step: 'initialize', priority: 'high', name: 'fakeS3Bucket' },
    );
    return client;
  }
}
