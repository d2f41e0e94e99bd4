import type { HeadObjectCommand, HeadObjectCommandOutput, RestoreObjectCommand, RestoreObjectCommandOutput } from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';
import type { RetryEvent, RetrySettings } from '../retry';
import type { SendOptions } from '../upload/types';

/** The calls the thaw makes. An S3Client from createS3Client satisfies it; unit tests pass a fake. */
export interface ArchiveClient {
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: RestoreObjectCommand, options?: SendOptions): Promise<RestoreObjectCommandOutput>;
}

/** `restore.restore_tier`: how fast (and how expensively) S3 thaws. */
export type RestoreTier = Config['restore']['restore_tier'];

export interface ThawProgress {
  /** Objects readable now (never archived, or thawed). */
  readonly ready: number;
  readonly total: number;
}

export interface ThawResult {
  /** Distinct keys asked about. */
  readonly total: number;
  /** RestoreObject requests this call sent (one per object that needed a thaw and had none running). */
  readonly requested: number;
  /** Objects readable when the call returned: `total` whenever it resolves. */
  readonly ready: number;
}

/** A retry of one HeadObject or RestoreObject, with what it was for. */
export interface ThawRetryEvent extends RetryEvent {
  readonly operation: 'HeadObject' | 'RestoreObject';
  readonly key: string;
}

/** How often to look again while S3 thaws: exponential from `initialDelayMs`, capped at `maxDelayMs`. */
export interface ThawPolling {
  /** First wait (default 60 s). */
  readonly initialDelayMs?: number;
  /** Longest wait (default 15 min): thaws take hours, and each look is one HeadObject per object. */
  readonly maxDelayMs?: number;
  /** Growth per wait (default 2). */
  readonly factor?: number;
}

export interface ThawOptions {
  /** `restore.restore_tier` (default Standard). Expedited is refused up front for DEEP_ARCHIVE objects, for which S3 does not offer it. */
  readonly tier?: RestoreTier;
  /** Days a thawed copy stays readable (default 7). Not sent for Intelligent-Tiering, whose thawed objects do not expire. */
  readonly days?: number;
  /** `restore.wait_for_restore` (default true). With false, the thaw is requested and the call rejects with ThawPendingError unless everything is readable already. */
  readonly waitForRestore?: boolean;
  /** `restore.restore_timeout_seconds` in ms (default 72 h): how long to wait before rejecting with ThawPendingError. */
  readonly timeoutMs?: number;
  /** HeadObject/RestoreObject calls in flight (default 8). */
  readonly concurrency?: number;
  readonly poll?: ThawPolling;
  /** Aborting rejects at once with `signal.reason` (a later run continues: no thaw is re-requested). */
  readonly signal?: AbortSignal;
  /** Attempts and backoff of every HeadObject and RestoreObject (defaults: 5 attempts, 1 s base, 30 s cap). */
  readonly retry?: RetrySettings;
  /** Waits between polls; injected so tests run instantly. Must reject with `signal.reason` when the signal aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Milliseconds since the epoch (default Date.now); injected with `sleep` to move time in tests. */
  readonly now?: () => number;
  /** Called once the objects are classified and after every poll. */
  readonly onProgress?: (progress: ThawProgress) => void;
  readonly onRetry?: (event: ThawRetryEvent) => void;
}
