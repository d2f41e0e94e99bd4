import { gauge, textfile } from './exposition';

/** What the bucket holds of one subvolume in one storage class. */
export interface StoredObjects {
  readonly subvolume: string;
  readonly storageClass: string;
  readonly objects: number;
  readonly bytes: number;
}

/** Monthly storage prices: `perGibMonth[storageClass]`, in `currency`. */
export interface StoragePrices {
  readonly currency: string;
  readonly perGibMonth: Readonly<Record<string, number>>;
}

/** Whole bytes to GiB: AWS bills a "GB-month" of 2^30 bytes. */
const GIB = 1024 ** 3;

/**
 * What it costs to keep these objects for a month: bytes times each class's price.
 * Storage only: requests, retrievals, minimum durations and the per-object overhead
 * of archived classes (40 KiB each) are left out; with chunk objects of many GiB that
 * overhead is a rounding error. Classes without a price are left out.
 */
export function monthlyCost(stored: readonly StoredObjects[], prices: StoragePrices): Map<string, number> {
  const cost = new Map<string, number>();
  for (const entry of stored) {
    const price = prices.perGibMonth[entry.storageClass];
    if (price !== undefined) cost.set(entry.storageClass, (cost.get(entry.storageClass) ?? 0) + (entry.bytes / GIB) * price);
  }
  return cost;
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

/** The inventory textfile: stored bytes and objects per subvolume and class, and the estimated monthly cost per class. */
export function renderInventoryTextfile(takenAt: number, stored: readonly StoredObjects[], prices: StoragePrices): string {
  const byClass = (entry: StoredObjects) => ({ subvolume: entry.subvolume, storage_class: entry.storageClass });
  return textfile([
    ...gauge('btrfs_to_s3_inventory_timestamp_seconds', 'When the bucket was last listed for the stored series.', [[{}, takenAt]]),
    ...gauge(
      'btrfs_to_s3_stored_bytes',
      'Bytes stored under the prefix per subvolume and storage class.',
      stored.map((entry) => [byClass(entry), entry.bytes]),
    ),
    ...gauge(
      'btrfs_to_s3_stored_objects',
      'Objects stored under the prefix per subvolume and storage class.',
      stored.map((entry) => [byClass(entry), entry.objects]),
    ),
    ...gauge(
      'btrfs_to_s3_estimated_monthly_cost',
      'Estimated monthly storage cost per storage class, from the [prices] table (storage only).',
      [...monthlyCost(stored, prices)].map(([storageClass, cost]) => [
        { storage_class: storageClass, currency: prices.currency },
        round(cost),
      ]),
    ),
  ]);
}
