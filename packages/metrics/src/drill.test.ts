import { renderDrillTextfile } from './drill';

describe('renderDrillTextfile', () => {
  it('writes the success timestamp only for outcomes that ever passed, and every attempt', () => {
    const text = renderDrillTextfile([
      { subvolume: 'data', mode: 'full', ok: false, lastAttempt: 2000, lastSuccess: 1000 },
      { subvolume: 'home', mode: 'sample', ok: false, lastAttempt: 3000, lastSuccess: null },
    ]);
    expect(text).toContain('btrfs_to_s3_last_drill_success_timestamp_seconds{subvolume="data",mode="full"} 1000\n');
    expect(text).not.toContain('btrfs_to_s3_last_drill_success_timestamp_seconds{subvolume="home"');
    expect(text).toContain('btrfs_to_s3_last_drill_attempt_timestamp_seconds{subvolume="home",mode="sample"} 3000\n');
    expect(text).toContain('btrfs_to_s3_last_drill_success{subvolume="data",mode="full"} 0\n');
  });

  it('escapes label values', () => {
    const text = renderDrillTextfile([{ subvolume: 'a"b', mode: 'full', ok: true, lastAttempt: 1, lastSuccess: 1 }]);
    expect(text).toContain('{subvolume="a\\"b",mode="full"} 1\n');
  });
});
