import type { RemoteObject } from './inventory';

/**
 * S3's minimum storage durations: an object deleted sooner is charged as if it had
 * been stored this many days (Amazon S3 pricing, "Storage"). INTELLIGENT_TIERING has none.
 */
export const MINIMUM_STORAGE_DAYS: Readonly<Record<string, number>> = {
  DEEP_ARCHIVE: 180,
  GLACIER: 90,
  GLACIER_IR: 90,
  STANDARD_IA: 30,
  ONEZONE_IA: 30,
};

/** Objects of one storage class that would be deleted before its minimum storage duration. */
export interface EarlyDeletion {
  readonly storageClass: string;
  readonly minimumDays: number;
  readonly objects: number;
  readonly bytes: number;
}

const DAY_MS = 86_400_000;

/** Per storage class, the objects younger than the class's minimum storage duration at `now`. */
export function earlyDeletions(objects: readonly RemoteObject[], now: Date): EarlyDeletion[] {
  const byClass = new Map<string, EarlyDeletion>();
  for (const object of objects) {
    const minimumDays = MINIMUM_STORAGE_DAYS[object.storageClass];
    if (minimumDays === undefined || now.getTime() - object.lastModified.getTime() >= minimumDays * DAY_MS) continue;
    const entry = byClass.get(object.storageClass) ?? { storageClass: object.storageClass, minimumDays, objects: 0, bytes: 0 };
    byClass.set(object.storageClass, { ...entry, objects: entry.objects + 1, bytes: entry.bytes + object.size });
  }
  return [...byClass.values()].sort((a, b) => (a.storageClass < b.storageClass ? -1 : 1));
}
