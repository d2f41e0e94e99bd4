import { HeadObjectCommand, RestoreObjectCommand } from '@aws-sdk/client-s3';
import { mapBounded, ThawPendingError } from '@org/btrfs-s3-core';
import { abortableSleep, withRetry } from '../retry';
import { isS3Error } from '../s3-errors';
import { type ArchiveClassification, type ArchiveState, classifyArchiveState } from './classify';
import { ArchiveThawError, ThawTierError } from './errors';
import type { ArchiveClient, ThawOptions, ThawResult } from './types';

const DEFAULTS = {
  tier: 'Standard',
  days: 7,
  waitForRestore: true,
  timeoutMs: 72 * 3_600_000,
  concurrency: 8,
  poll: { initialDelayMs: 60_000, maxDelayMs: 15 * 60_000, factor: 2 },
} as const;

interface Tracked {
  readonly key: string;
  state: ArchiveState;
  classification: ArchiveClassification;
}

const isReady = (object: Tracked) => object.state === 'readable' || object.state === 'restored';

/**
 * Makes archived objects readable. HEADs every key (bounded in parallel), then sends
 * RestoreObject once for each archived object with no thaw running (409
 * RestoreAlreadyInProgress counts as running), for all keys before waiting for any.
 * With `waitForRestore` it then polls HeadObject with capped exponential backoff,
 * reporting progress, until every object is readable at once; a restored copy that
 * expired meanwhile is requested again.
 *
 * Resolves once every object is readable. Rejects with ThawPendingError (exit code
 * 5) when `waitForRestore` is false and something is still thawing, or when
 * `timeoutMs` passes; a later call continues without re-requesting running thaws.
 * Rejects with ArchiveThawError naming the key when a call fails permanently, and
 * with ThawTierError (nothing requested) for Expedited on DEEP_ARCHIVE objects.
 */
export async function thawObjects(
  client: ArchiveClient,
  bucket: string,
  keys: readonly string[],
  options: ThawOptions = {},
): Promise<ThawResult> {
  return new Thaw(client, bucket, options).run([...new Set(keys)]);
}

function positive(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || (integer && !Number.isInteger(value)))
    throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  return value;
}

function duration(ms: number): string {
  if (ms >= 3_600_000) return `${Math.round(ms / 360_000) / 10} h`;
  if (ms >= 60_000) return `${Math.round(ms / 6_000) / 10} min`;
  return `${Math.round(ms / 100) / 10} s`;
}

class Thaw {
  private readonly settings;
  private readonly now: () => number;
  private requested = 0;

  constructor(
    private readonly client: ArchiveClient,
    private readonly bucket: string,
    private readonly options: ThawOptions,
  ) {
    const poll = { ...DEFAULTS.poll, ...options.poll };
    this.settings = {
      tier: options.tier ?? DEFAULTS.tier,
      days: positive('days', options.days ?? DEFAULTS.days, true),
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      concurrency: positive('concurrency', options.concurrency ?? DEFAULTS.concurrency, true),
      initialDelayMs: positive('poll.initialDelayMs', poll.initialDelayMs, false),
      maxDelayMs: positive('poll.maxDelayMs', poll.maxDelayMs, false),
      factor: positive('poll.factor', poll.factor, false),
    };
    if (!(this.settings.timeoutMs >= 0)) throw new RangeError(`timeoutMs must not be negative, got ${this.settings.timeoutMs}`);
    this.now = options.now ?? Date.now;
  }

  async run(keys: readonly string[]): Promise<ThawResult> {
    const started = this.now();
    const objects = await mapBounded(keys, this.settings.concurrency, async (key): Promise<Tracked> => {
      const classification = await this.head(key);
      return { key, state: classification.state, classification };
    });
    await this.requestThaws(objects);
    if (this.report(objects)) return this.result(objects);
    const { sleep = abortableSleep, signal } = this.options;
    if (!(this.options.waitForRestore ?? DEFAULTS.waitForRestore)) {
      const running = objects.filter((object) => object.state === 'restore-in-progress').length;
      throw this.pending(
        objects,
        `thaw requested for ${this.requested}, ${running - this.requested} already running; run the same restore again later to continue`,
      );
    }
    const deadline = started + this.settings.timeoutMs;
    for (let round = 0; ; round += 1) {
      const remaining = deadline - this.now();
      if (remaining <= 0) {
        const waiting = objects.filter((object) => !isReady(object));
        throw this.pending(
          objects,
          `gave up waiting after ${duration(this.settings.timeoutMs)} (restore.restore_timeout_seconds) with ${waiting.length} still thawing, first s3://…/${waiting[0]?.key ?? '?'}; run the same restore again later to continue`,
        );
      }
      const { initialDelayMs, maxDelayMs, factor } = this.settings;
      await sleep(Math.min(remaining, maxDelayMs, initialDelayMs * factor ** round), signal);
      // Restored copies are looked at again too: one thawed by an earlier run may expire while others thaw.
      await mapBounded(
        objects.filter((object) => object.state !== 'readable'),
        this.settings.concurrency,
        async (object) => {
          object.classification = await this.head(object.key);
          object.state = object.classification.state;
        },
      );
      // A thaw that was lost, or a restored copy that expired while others thawed, is requested again.
      await this.requestThaws(objects);
      if (this.report(objects)) return this.result(objects);
    }
  }

  /** Reports progress; true when every object is readable. */
  private report(objects: readonly Tracked[]): boolean {
    const ready = objects.filter(isReady).length;
    this.options.onProgress?.({ ready, total: objects.length });
    return ready === objects.length;
  }

  private result(objects: readonly Tracked[]): ThawResult {
    return { total: objects.length, requested: this.requested, ready: objects.filter(isReady).length };
  }

  private pending(objects: readonly Tracked[], detail: string): ThawPendingError {
    return new ThawPendingError(objects.filter(isReady).length, objects.length, detail);
  }

  /** Sends RestoreObject for every object that needs one, after checking the tier suits all of them. */
  private async requestThaws(objects: readonly Tracked[]): Promise<void> {
    const needed = objects.filter((object) => object.state === 'needs-restore');
    const { tier } = this.settings;
    const refused = needed.filter((object) => tier === 'Expedited' && object.classification.deepArchive);
    if (refused.length > 0)
      throw new ThawTierError(
        tier,
        refused.map((object) => object.key),
      );
    await mapBounded(needed, this.settings.concurrency, async (object) => {
      object.state = await this.restore(object);
    });
  }

  private async restore(object: Tracked): Promise<ArchiveState> {
    const { tier, days } = this.settings;
    // Intelligent-Tiering's archive tiers refuse Days: their thawed objects move back to an access tier for good.
    const request = { ...(object.classification.intelligentTiering ? {} : { Days: days }), GlacierJobParameters: { Tier: tier } };
    const command = new RestoreObjectCommand({ Bucket: this.bucket, Key: object.key, RestoreRequest: request });
    const outcome = await this.call('RestoreObject', object.key, async () => {
      try {
        await this.client.send(command, this.sendOptions());
        return 'accepted';
      } catch (error) {
        // Already thawing (another run's request, or this one's whose answer was lost): nothing more to ask.
        if (isS3Error(error, 'RestoreAlreadyInProgress')) return 'running';
        if (isS3Error(error, 'ObjectAlreadyInActiveTierError')) return 'readable';
        // S3-compatible stores without an archive tier (Ceph RGW, MinIO) accept the class
        // names but keep the bytes readable, and answer RestoreObject with 501. A GET that
        // still fails is reported by the download, naming the key.
        if (isS3Error(error, 'NotImplemented')) return 'readable';
        throw error;
      }
    });
    if (outcome === 'readable') return 'readable';
    if (outcome === 'accepted') this.requested += 1;
    return 'restore-in-progress';
  }

  private async head(key: string): Promise<ArchiveClassification> {
    const head = await this.call('HeadObject', key, () =>
      this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), this.sendOptions()),
    );
    try {
      return classifyArchiveState(head);
    } catch (error) {
      throw new ArchiveThawError('HeadObject', key, error);
    }
  }

  private sendOptions() {
    const { signal } = this.options;
    return signal === undefined ? {} : { abortSignal: signal };
  }

  private async call<T>(operation: 'HeadObject' | 'RestoreObject', key: string, send: () => Promise<T>): Promise<T> {
    const { signal, onRetry } = this.options;
    try {
      return await withRetry(send, {
        ...this.options.retry,
        ...(signal === undefined ? {} : { signal }),
        onRetry: (event) => onRetry?.({ ...event, operation, key }),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ArchiveThawError(operation, key, error);
    }
  }
}
