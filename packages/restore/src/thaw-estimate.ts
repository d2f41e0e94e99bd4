/** One retrieval tier's list price and how long AWS says a thaw takes. */
interface TierPrice {
  readonly tier: 'Expedited' | 'Standard' | 'Bulk';
  /** USD per GiB retrieved (AWS prices per GB; the difference is under 7 %, and rounding up is the safer error). */
  readonly perGiB: number;
  /** USD per 1,000 restore requests (one per chunk object). */
  readonly perThousandRequests: number;
  /** What AWS documents as the usual time to a readable object. */
  readonly typically: string;
}

/**
 * Retrieval list prices of the archive classes, us-east-1, as docs/restore.md gives
 * them (with the date they were read). They only estimate the bill: the region's
 * price page is the truth, and the restored copy's storage for `Days`, the GETs and
 * data transfer out come on top.
 */
export const THAW_PRICES: Readonly<Record<'GLACIER' | 'DEEP_ARCHIVE', readonly TierPrice[]>> = {
  GLACIER: [
    { tier: 'Expedited', perGiB: 0.03, perThousandRequests: 10, typically: '1-5 minutes' },
    { tier: 'Standard', perGiB: 0.01, perThousandRequests: 0.05, typically: '3-5 hours' },
    { tier: 'Bulk', perGiB: 0, perThousandRequests: 0, typically: '5-12 hours' },
  ],
  DEEP_ARCHIVE: [
    { tier: 'Standard', perGiB: 0.02, perThousandRequests: 0.1, typically: 'within 12 hours' },
    { tier: 'Bulk', perGiB: 0.0025, perThousandRequests: 0.025, typically: 'within 48 hours' },
  ],
};

export interface ThawEstimate {
  /** Chunk objects of the chain, and those stored in an archive class (a restore requests their thaw). */
  readonly objects: number;
  readonly bytes: number;
  readonly archivedObjects: number;
  readonly archivedBytes: number;
  /** Per archive class in the chain, per tier: the estimated retrieval fee in USD. */
  readonly byTier: readonly { readonly storageClass: string; readonly tier: string; readonly usd: number; readonly typically: string }[];
}

const GiB = 1024 ** 3;

/** What the estimate reads of each backup's manifest. */
export interface PricedBackup {
  readonly manifest: { readonly chunks: readonly { readonly size: number }[]; readonly s3: { readonly storage_class: string } };
}

/** What a restore of `chain` would thaw, and what each tier would charge for it, from the manifests' storage classes. */
export function estimateThaw(chain: readonly PricedBackup[]): ThawEstimate {
  const archived = new Map<'GLACIER' | 'DEEP_ARCHIVE', { objects: number; bytes: number }>();
  let objects = 0;
  let bytes = 0;
  for (const { manifest } of chain) {
    const chunkBytes = manifest.chunks.reduce((sum, chunk) => sum + chunk.size, 0);
    objects += manifest.chunks.length;
    bytes += chunkBytes;
    const storageClass = manifest.s3.storage_class;
    if (storageClass !== 'GLACIER' && storageClass !== 'DEEP_ARCHIVE') continue;
    const entry = archived.get(storageClass) ?? { objects: 0, bytes: 0 };
    archived.set(storageClass, { objects: entry.objects + manifest.chunks.length, bytes: entry.bytes + chunkBytes });
  }
  const byTier = [...archived].flatMap(([storageClass, entry]) =>
    THAW_PRICES[storageClass].map((price) => ({
      storageClass,
      tier: price.tier,
      usd: Math.round(((entry.bytes / GiB) * price.perGiB + (entry.objects / 1000) * price.perThousandRequests) * 100) / 100,
      typically: price.typically,
    })),
  );
  const sum = (key: 'objects' | 'bytes') => [...archived.values()].reduce((total, entry) => total + entry[key], 0);
  return { objects, bytes, archivedObjects: sum('objects'), archivedBytes: sum('bytes'), byTier };
}
