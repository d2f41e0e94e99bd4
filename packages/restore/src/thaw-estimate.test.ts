import { estimateThaw, type PricedBackup } from './thaw-estimate';

const GiB = 1024 ** 3;

/** A backup of `chunks` chunk objects of `chunkBytes` each, stored in `storageClass`. */
function link(storageClass: string, chunks: number, chunkBytes: number): PricedBackup {
  return { manifest: { chunks: Array.from({ length: chunks }, () => ({ size: chunkBytes })), s3: { storage_class: storageClass } } };
}

describe('estimateThaw', () => {
  it('prices the archived chunks per tier from the table: per GiB plus per 1,000 requests', () => {
    const estimate = estimateThaw([link('DEEP_ARCHIVE', 10, 2 * GiB), link('STANDARD', 1, GiB)]);
    expect(estimate).toMatchObject({ objects: 11, bytes: 21 * GiB, archivedObjects: 10, archivedBytes: 20 * GiB });
    expect(estimate.byTier).toEqual([
      { storageClass: 'DEEP_ARCHIVE', tier: 'Standard', usd: 0.4, typically: 'within 12 hours' }, // 20 x 0.02 + 0.01 x 0.1
      { storageClass: 'DEEP_ARCHIVE', tier: 'Bulk', usd: 0.05, typically: 'within 48 hours' }, // 20 x 0.0025 + 0.01 x 0.025
    ]);
  });

  it('has nothing to price for a chain outside the archive classes', () => {
    expect(estimateThaw([link('STANDARD_IA', 3, GiB)])).toMatchObject({ archivedObjects: 0, archivedBytes: 0, byTier: [] });
  });
});
