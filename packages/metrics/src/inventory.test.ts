import { monthlyCost, renderInventoryTextfile } from './inventory';

const GIB = 1024 ** 3;
const prices = { currency: 'USD', perGibMonth: { DEEP_ARCHIVE: 0.00099, STANDARD: 0.023 } };

describe('inventory textfile', () => {
  it('prices each storage class over every subvolume, per GiB-month', () => {
    const cost = monthlyCost(
      [
        { subvolume: 'data', storageClass: 'DEEP_ARCHIVE', objects: 3, bytes: 1000 * GIB },
        { subvolume: 'home', storageClass: 'DEEP_ARCHIVE', objects: 1, bytes: 24 * GIB },
        { subvolume: 'data', storageClass: 'STANDARD', objects: 2, bytes: GIB / 2 },
        { subvolume: 'data', storageClass: 'GLACIER', objects: 1, bytes: GIB },
      ],
      prices,
    );
    expect(cost.get('DEEP_ARCHIVE')).toBeCloseTo(1.01376, 6);
    expect(cost.get('STANDARD')).toBeCloseTo(0.0115, 6);
    expect(cost.has('GLACIER')).toBe(false); // no price, no guess
  });

  it('writes stored bytes and objects per subvolume and class, and the cost per class with its currency', () => {
    const text = renderInventoryTextfile(
      1_700_000_000,
      [{ subvolume: 'data', storageClass: 'DEEP_ARCHIVE', objects: 3, bytes: 1000 * GIB }],
      prices,
    );
    expect(text).toContain('\nbtrfs_to_s3_inventory_timestamp_seconds 1700000000\n');
    expect(text).toContain(`btrfs_to_s3_stored_bytes{subvolume="data",storage_class="DEEP_ARCHIVE"} ${1000 * GIB}\n`);
    expect(text).toContain('btrfs_to_s3_stored_objects{subvolume="data",storage_class="DEEP_ARCHIVE"} 3\n');
    expect(text).toContain('btrfs_to_s3_estimated_monthly_cost{storage_class="DEEP_ARCHIVE",currency="USD"} 0.99\n');
  });
});
