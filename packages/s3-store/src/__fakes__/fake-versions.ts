import type {
  DeleteObjectsCommand,
  DeleteObjectsCommandOutput,
  GetObjectRetentionCommand,
  GetObjectRetentionCommandOutput,
  ListObjectVersionsCommand,
  ListObjectVersionsCommandOutput,
  ObjectVersionStorageClass,
  PutObjectRetentionCommand,
  PutObjectRetentionCommandOutput,
} from '@aws-sdk/client-s3';
import { compareKeys, etagOf, type FakeObject, type FakeObjects, newObject, s3Error } from './fake-store';

/** A noncurrent version of a key: data, or a delete marker (no object). */
export interface FakeVersion {
  readonly versionId: string;
  readonly object: FakeObject | undefined;
  readonly lastModified: Date;
}

interface Listed {
  readonly key: string;
  readonly versionId: string;
  readonly object: FakeObject | undefined;
  readonly lastModified: Date;
  readonly isLatest: boolean;
}

const ok = { $metadata: { httpStatusCode: 200 } };
const versionOf = (object: FakeObject) => object.versionId ?? 'null';

/**
 * A versioned bucket's history beside its current objects: the objects map holds each
 * key's current data version (with its `versionId`), `older` the noncurrent versions and
 * delete markers, newest first. A key missing from the objects map whose newest older
 * entry is a delete marker reads as deleted (404), as on S3. Answers ListObjectVersions,
 * DeleteObjects naming versions (AccessDenied for one whose retention lasts), and
 * Get/PutObjectRetention (AccessDenied for a shorter retention, as without a bypass).
 * Writes do not make versions here: tests plant history with `hide` and `plantOlder`.
 */
export class FakeVersions {
  readonly older = new Map<string, FakeVersion[]>();
  /** ListObjectVersions page size (entries), to exercise its markers. */
  pageSize = 1000;
  /** The clock retention is judged by. */
  now: () => Date = () => new Date();
  /** An error code DeleteObjects reports for a version instead of deleting it (e.g. AccessDenied without s3:DeleteObjectVersion). */
  deleteErrorFor: (key: string, versionId: string) => string | undefined = () => undefined;
  private next = 1;

  constructor(private readonly objects: FakeObjects) {}

  newVersionId(): string {
    return `v${String(this.next++).padStart(6, '0')}`;
  }

  /** A plain DeleteObject in a versioned bucket: the current version goes under a new delete marker. */
  hide(key: string): void {
    const current = this.objects.get(key);
    if (current === undefined) throw new Error(`no current version of ${key} to hide`);
    this.objects.delete(key);
    const marker = { versionId: this.newVersionId(), object: undefined, lastModified: this.now() };
    this.older.set(key, [
      marker,
      { versionId: versionOf(current), object: current, lastModified: current.lastModified },
      ...this.entries(key),
    ]);
  }

  /** A delete marker on top of whatever `key` had (nothing, here, leaves a key with only a marker). */
  plantDeleteMarker(key: string): void {
    if (this.objects.has(key)) return this.hide(key);
    this.older.set(key, [{ versionId: this.newVersionId(), object: undefined, lastModified: this.now() }, ...this.entries(key)]);
  }

  /** Adds an older data version of `key` (below everything it has), e.g. an earlier current.json. */
  plantOlder(key: string, bytes: Buffer, options: Partial<Omit<FakeObject, 'bytes'>> = {}): string {
    const object = newObject(bytes, { versionId: this.newVersionId(), ...options });
    this.older.set(key, [...this.entries(key), { versionId: versionOf(object), object, lastModified: object.lastModified }]);
    return versionOf(object);
  }

  /** The data of one version of `key`, current or older. */
  find(key: string, versionId: string): FakeObject | undefined {
    const current = this.objects.get(key);
    if (current !== undefined && versionOf(current) === versionId) return current;
    return this.entries(key).find((entry) => entry.versionId === versionId)?.object;
  }

  list(command: ListObjectVersionsCommand): ListObjectVersionsCommandOutput {
    const { Prefix = '', KeyMarker, VersionIdMarker } = command.input;
    const all = this.listed().filter((entry) => entry.key.startsWith(Prefix));
    const start =
      KeyMarker === undefined
        ? 0
        : all.findIndex((entry, index) =>
            VersionIdMarker === undefined
              ? compareKeys(entry.key, KeyMarker) > 0
              : index > all.findIndex((marked) => marked.key === KeyMarker && marked.versionId === VersionIdMarker),
          );
    const rest = start === -1 ? [] : all.slice(start);
    const page = rest.slice(0, this.pageSize);
    const last = page.at(-1);
    const truncated = rest.length > page.length;
    const shown = (entry: Listed) => ({
      Key: entry.key,
      VersionId: entry.versionId,
      IsLatest: entry.isLatest,
      LastModified: entry.lastModified,
    });
    const Versions = page.flatMap((entry) =>
      entry.object === undefined
        ? []
        : [
            {
              ...shown(entry),
              Size: entry.object.bytes.length,
              ETag: etagOf(entry.object),
              // The SDK's type names only STANDARD here; S3 reports every class, as ListObjectsV2 does.
              StorageClass: entry.object.storageClass as ObjectVersionStorageClass,
            },
          ],
    );
    const DeleteMarkers = page.filter((entry) => entry.object === undefined).map(shown);
    return {
      ...ok,
      IsTruncated: truncated,
      ...(Versions.length === 0 ? {} : { Versions }),
      ...(DeleteMarkers.length === 0 ? {} : { DeleteMarkers }),
      ...(truncated && last !== undefined ? { NextKeyMarker: last.key, NextVersionIdMarker: last.versionId } : {}),
    };
  }

  /** DeleteObjects naming versions: each goes for good unless its retention lasts (AccessDenied). */
  delete(command: DeleteObjectsCommand): DeleteObjectsCommandOutput {
    const Errors: { Key: string; VersionId: string; Code: string; Message: string }[] = [];
    for (const { Key = '', VersionId } of command.input.Delete?.Objects ?? []) {
      if (VersionId === undefined) throw s3Error('NotImplemented', 501, ': the fake deletes versions only by version id here');
      const object = this.find(Key, VersionId);
      const code = this.deleteErrorFor(Key, VersionId);
      if (code !== undefined) {
        Errors.push({ Key, VersionId, Code: code, Message: 'from the fake' });
        continue;
      }
      if (object !== undefined && this.retained(object)) {
        Errors.push({ Key, VersionId, Code: 'AccessDenied', Message: 'forbidden by object lock' });
        continue;
      }
      this.remove(Key, VersionId);
    }
    return { ...ok, ...(Errors.length === 0 ? {} : { Errors }) };
  }

  getRetention(command: GetObjectRetentionCommand): GetObjectRetentionCommandOutput {
    const object = this.target(command.input.Key ?? '', command.input.VersionId);
    if (object.retention === undefined) throw s3Error('NoSuchObjectLockConfiguration', 404);
    return { ...ok, Retention: { Mode: object.retention.mode, RetainUntilDate: object.retention.retainUntil } };
  }

  putRetention(command: PutObjectRetentionCommand): PutObjectRetentionCommandOutput {
    const object = this.target(command.input.Key ?? '', command.input.VersionId);
    const { Mode, RetainUntilDate } = command.input.Retention ?? {};
    if (Mode === undefined || RetainUntilDate === undefined) throw s3Error('MalformedXML', 400);
    if (object.retention !== undefined && RetainUntilDate.getTime() < object.retention.retainUntil.getTime())
      throw s3Error('AccessDenied', 403, ': a shorter retention needs a governance bypass');
    if (object.retention?.mode === 'COMPLIANCE' && Mode === 'GOVERNANCE') throw s3Error('AccessDenied', 403);
    object.retention = { mode: Mode, retainUntil: RetainUntilDate };
    return ok;
  }

  private retained(object: FakeObject): boolean {
    return object.retention !== undefined && object.retention.retainUntil.getTime() > this.now().getTime();
  }

  private target(key: string, versionId: string | undefined): FakeObject {
    const object = versionId === undefined ? this.objects.get(key) : this.find(key, versionId);
    if (object === undefined) throw s3Error('NoSuchKey', 404);
    return object;
  }

  private entries(key: string): FakeVersion[] {
    return this.older.get(key) ?? [];
  }

  /** Deleting the current version, or the delete marker over it, makes the newest remaining one current, unless that is a delete marker. */
  private remove(key: string, versionId: string): void {
    const current = this.objects.get(key);
    if (current !== undefined && versionOf(current) === versionId) this.objects.delete(key);
    else
      this.setOlder(
        key,
        this.entries(key).filter((entry) => entry.versionId !== versionId),
      );
    if (this.objects.has(key)) return;
    const [newest, ...rest] = this.entries(key);
    if (newest?.object === undefined) return;
    this.objects.set(key, newest.object);
    this.setOlder(key, rest);
  }

  private setOlder(key: string, entries: FakeVersion[]): void {
    if (entries.length === 0) this.older.delete(key);
    else this.older.set(key, entries);
  }

  /** Every key's versions in key order, each key's newest first. */
  private listed(): Listed[] {
    const keys = [...new Set([...this.objects.keys(), ...this.older.keys()])].sort(compareKeys);
    return keys.flatMap((key) => {
      const current = this.objects.get(key);
      const head: Listed[] =
        current === undefined
          ? []
          : [{ key, versionId: versionOf(current), object: current, lastModified: current.lastModified, isLatest: true }];
      const rest = this.entries(key).map((entry, index) => ({ key, ...entry, isLatest: current === undefined && index === 0 }));
      return [...head, ...rest];
    });
  }
}
