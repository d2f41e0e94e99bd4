import type { ObjectLockMode } from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';

/** `s3.object_lock`: the retention locked writes get. */
export type ObjectLockConfig = NonNullable<Config['s3']['object_lock']>;

/** An object version's Object Lock retention, as the store reports it. */
export interface Retention {
  readonly mode: ObjectLockMode;
  readonly retainUntil: Date;
}

const DAY_MS = 24 * 3600 * 1000;

/** What a locked write asks for: the configured mode, until `days` after `now`. */
export function retentionFor(lock: ObjectLockConfig, now: Date): Retention {
  return { mode: lock.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE', retainUntil: new Date(now.getTime() + lock.days * DAY_MS) };
}

/** The Object Lock parameters of a locked PutObject or CreateMultipartUpload. */
export function lockParams(retention: Retention): { ObjectLockMode: ObjectLockMode; ObjectLockRetainUntilDate: Date } {
  return { ObjectLockMode: retention.mode, ObjectLockRetainUntilDate: retention.retainUntil };
}
