import {
  deleteResumeRecord,
  type Logger,
  type ResumeChunk,
  type ResumeRecord,
  writeOpenUploadRecord,
  writeResumeRecord,
} from '@org/btrfs-s3-core';
import type { AcknowledgedPart, UploadedChunk } from '@org/btrfs-s3-store';

/** The layout and encoding a record was made under: a run with others cannot continue it. */
export type ChunkLayout = ResumeRecord['layout'];

/** What a record says before its first chunk or part: which backup, of which snapshot, cut how. */
export type ResumeBase = Omit<ResumeRecord, 'version' | 'chunks' | 'open_upload' | 'updated_at'>;

/**
 * Keeps the resume record of the backup in progress (docs/failure-model.md, "Resume"):
 * after every completed chunk the record is rewritten, and after every acknowledged part
 * of the next chunk its small open-upload file (the record holds every completed chunk's
 * parts: megabytes late in a multi-terabyte full); atomically, in order, before the
 * upload goes on. Chunks can complete out
 * of order (parts of two chunks in flight), so the record holds the completed ones from
 * the first without a gap, and the open upload of the chunk after them.
 *
 * A record that cannot be written costs only the ability to resume: it is logged once and
 * the backup goes on.
 */
export class ResumeRecorder {
  private readonly completed = new Map<number, ResumeChunk>();
  private readonly parts = new Map<number, AcknowledgedPart[]>();
  private writes: Promise<void> = Promise.resolve();
  private failed = false;
  private written = false;
  /** The record itself is on disk: from then on a part rewrites only the open-upload file. */
  private recordWritten = false;

  constructor(
    private readonly statePath: string,
    private readonly base: ResumeBase,
    private readonly logger: Logger,
    private readonly now: () => Date,
    resumed?: ResumeRecord,
  ) {
    for (const [index, chunk] of (resumed?.chunks ?? []).entries()) this.completed.set(index, chunk);
    const open = resumed?.open_upload;
    if (open !== undefined && open !== null)
      this.parts.set(
        this.completed.size,
        open.parts.map((part) => ({ ...part, chunkIndex: this.completed.size, key: open.key, uploadId: open.upload_id })),
      );
    this.written = resumed !== undefined;
    this.recordWritten = resumed !== undefined;
  }

  chunk = (chunk: UploadedChunk, index: number): Promise<void> => {
    const { key, size, sha256, etag, parts, plainSize, plainSha256 } = chunk;
    this.completed.set(index, { key, size, sha256, etag, parts: [...parts], plain_size: plainSize, plain_sha256: plainSha256 });
    this.parts.delete(index);
    return this.save();
  };

  part = (part: AcknowledgedPart): Promise<void> => {
    const held = this.parts.get(part.chunkIndex)?.filter((known) => known.uploadId === part.uploadId) ?? [];
    this.parts.set(part.chunkIndex, [...held.filter((known) => known.number !== part.number), part]);
    if (part.chunkIndex !== this.contiguous().length) return Promise.resolve();
    return this.recordWritten ? this.saveOpenUpload(part.chunkIndex) : this.save();
  };

  /** Whether the bucket holds anything a next run could skip: then the snapshot is kept for it. */
  get hasProgress(): boolean {
    return this.written && (this.completed.size > 0 || this.parts.size > 0);
  }

  /** Waits for the writes in flight (before deciding what to keep after a failure). */
  flush(): Promise<void> {
    return this.writes;
  }

  /** The backup was published, or given up: nothing is left to resume. */
  async discard(): Promise<void> {
    await this.writes;
    try {
      await deleteResumeRecord(this.statePath, this.base.subvolume);
    } catch (error) {
      this.logger.warn(`${this.base.subvolume}: cannot delete the resume record: ${describe(error)}`);
    }
  }

  private contiguous(): ResumeChunk[] {
    const chunks: ResumeChunk[] = [];
    for (let index = 0; this.completed.has(index); index += 1) chunks.push(this.completed.get(index) as ResumeChunk);
    return chunks;
  }

  private record(): ResumeRecord {
    const chunks = this.contiguous();
    const open = this.parts.get(chunks.length) ?? [];
    const first = open[0];
    return {
      version: 1,
      ...this.base,
      chunks,
      open_upload:
        first === undefined
          ? null
          : {
              key: first.key,
              upload_id: first.uploadId,
              parts: open.map(({ number, size, sha256, etag }) => ({ number, size, sha256, etag })).sort((a, b) => a.number - b.number),
            },
      updated_at: this.now().toISOString(),
    };
  }

  private save(): Promise<void> {
    const record = this.record();
    return this.write(async () => {
      await writeResumeRecord(this.statePath, record);
      this.recordWritten = true;
    });
  }

  private saveOpenUpload(chunkIndex: number): Promise<void> {
    const { open_upload: open, updated_at } = this.record();
    if (open === null) return Promise.resolve();
    const record = { version: 1 as const, backup_prefix: this.base.backup_prefix, chunk_index: chunkIndex, open_upload: open, updated_at };
    return this.write(() => writeOpenUploadRecord(this.statePath, this.base.subvolume, record));
  }

  /** Writes in order; the first failure is logged once and ends the recording. */
  private write(operation: () => Promise<void>): Promise<void> {
    this.writes = this.writes.then(async () => {
      if (this.failed) return;
      try {
        await operation();
        this.written = true;
      } catch (error) {
        this.failed = true;
        this.logger.warn(
          `${this.base.subvolume}: cannot write the resume record (an interruption now means starting over): ${describe(error)}`,
        );
      }
    });
    return this.writes;
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
