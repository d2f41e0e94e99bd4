import { errnoCode } from '@org/btrfs-s3-core';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolFullError } from './errors';
import { ByteBudget, type PartStore, type PartWriter, type StoredPart } from './part-store';

const isFull = (error: unknown) => ['ENOSPC', 'EDQUOT'].includes(errnoCode(error) ?? '');

/**
 * Parts as files in the spool directory, at most `maxBytes` of them at once. Reading
 * the source runs ahead of the upload until the spool is full, so a slow uplink does
 * not hold `btrfs send` open, and memory stays at a few read buffers.
 */
export class SpoolPartStore implements PartStore {
  private readonly budget: ByteBudget;
  // One name prefix per run: two runs (or a crashed run's leftovers) never share a file.
  private readonly runId = randomUUID();
  private sequence = 0;
  private readonly live = new Set<string>();
  private readonly handles = new Set<FileHandle>();
  private ready: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    maxBytes: number,
  ) {
    this.budget = new ByteBudget(maxBytes);
  }

  async open(capacity: number): Promise<PartWriter> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    await this.ready;
    await this.budget.acquire(capacity);
    const path = join(this.dir, `btrfs-to-s3-${this.runId}-${String(this.sequence++).padStart(6, '0')}.part`);
    let handle: FileHandle;
    try {
      // 0600: part files hold the snapshot's plaintext.
      handle = await open(path, 'wx', 0o600);
    } catch (error) {
      this.budget.release(capacity);
      throw this.translate(error);
    }
    this.live.add(path);
    this.handles.add(handle);
    const closeHandle = async () => {
      if (this.handles.delete(handle)) await handle.close();
    };
    let size = 0;
    const release = async () => {
      if (!this.live.delete(path)) return;
      await rm(path, { force: true });
      this.budget.release(capacity);
    };
    return {
      write: async (data) => {
        try {
          for (let offset = 0; offset < data.length;) offset += (await handle.write(data, offset)).bytesWritten;
        } catch (error) {
          await closeHandle();
          await release();
          throw this.translate(error);
        }
        size += data.length;
      },
      finish: async (): Promise<StoredPart> => {
        await closeHandle();
        return { size, body: () => createReadStream(path), release };
      },
    };
  }

  /** Rejects a reader waiting for room and deletes every part file this run still holds. */
  async close(reason: unknown): Promise<void> {
    this.budget.close(reason);
    const handles = [...this.handles];
    const paths = [...this.live];
    this.handles.clear();
    this.live.clear();
    await Promise.all(handles.map((handle) => handle.close()));
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }

  private translate(error: unknown): unknown {
    return isFull(error) ? new SpoolFullError(this.dir, error) : error;
  }
}
