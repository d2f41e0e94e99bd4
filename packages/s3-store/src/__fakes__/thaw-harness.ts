import { HeadObjectCommand, RestoreObjectCommand } from '@aws-sdk/client-s3';
import { thawObjects } from '../archive/thaw';
import type { ThawOptions, ThawProgress, ThawResult } from '../archive/types';
import { FakeObjectS3 } from './fake-s3-objects';

/** A clock that only moves when the thaw sleeps, so polling runs instantly and deterministically. */
export class FakeClock {
  time = 0;
  readonly sleeps: number[] = [];
  /** Runs after each sleep with its 1-based count: the place to finish restores "while time passes". */
  onSleep: (count: number) => void = () => undefined;

  readonly now = () => this.time;

  readonly sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted();
    this.sleeps.push(ms);
    this.time += ms;
    this.onSleep(this.sleeps.length);
  };
}

/** One object of each kind the thaw tells apart, keyed by what it is. */
export function storeArchive(fake: FakeObjectS3): void {
  const bytes = Buffer.from('chunk');
  fake.put('standard', bytes);
  fake.put('glacier-ir', bytes, { storageClass: 'GLACIER_IR' });
  fake.put('glacier', bytes, { storageClass: 'GLACIER' });
  fake.put('deep', bytes, { storageClass: 'DEEP_ARCHIVE' });
  fake.put('deep-thawing', bytes, { storageClass: 'DEEP_ARCHIVE', restore: 'ongoing' });
  fake.put('deep-restored', bytes, { storageClass: 'DEEP_ARCHIVE', restore: 'restored' });
  fake.put('it-archive', bytes, { storageClass: 'INTELLIGENT_TIERING', archiveStatus: 'ARCHIVE_ACCESS' });
  fake.put('it-frequent', bytes, { storageClass: 'INTELLIGENT_TIERING' });
}

/** The keys storeArchive puts that are readable without a thaw (or thawed already). */
export const READY_KEYS = ['standard', 'glacier-ir', 'deep-restored', 'it-frequent'];
/** The keys storeArchive puts that need a RestoreObject. */
export const ARCHIVED_KEYS = ['glacier', 'deep', 'it-archive'];
export const ALL_KEYS = ['standard', 'glacier-ir', 'glacier', 'deep', 'deep-thawing', 'deep-restored', 'it-archive', 'it-frequent'];

export interface ThawRun {
  readonly progress: ThawProgress[];
  readonly outcome: Promise<ThawResult>;
}

/** Thaws `keys` on `fake` with instant retries and `clock`'s time, recording progress. */
export function thaw(fake: FakeObjectS3, clock: FakeClock, keys: readonly string[], options: ThawOptions = {}): ThawRun {
  const progress: ThawProgress[] = [];
  const outcome = thawObjects(fake, 'backups', keys, {
    now: clock.now,
    sleep: clock.sleep,
    poll: { initialDelayMs: 1000, maxDelayMs: 3000 },
    timeoutMs: 60_000,
    onProgress: (report) => progress.push(report),
    ...options,
    retry: { sleep: async () => undefined, ...options.retry },
  });
  return { progress, outcome };
}

/** The keys RestoreObject was sent for, in order. */
export const restoredKeys = (fake: FakeObjectS3) => fake.of(RestoreObjectCommand).map(({ input }) => input.Key);
/** The keys HeadObject was sent for, in order. */
export const headedKeys = (fake: FakeObjectS3) => fake.of(HeadObjectCommand).map(({ input }) => input.Key);

/** Awaits `promise`, expecting it to reject; returns the reason. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
}

export { FakeObjectS3 };
