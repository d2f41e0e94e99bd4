import { renderCheckTextfile } from './checks';

describe('renderCheckTextfile', () => {
  it("names the command's gauges, keeps the last success of a failed one, and leaves out a success that never was", () => {
    const text = renderCheckTextfile('verify', [
      { labels: { subvolume: 'data', reads: 'all' }, ok: false, lastAttempt: 2000, lastSuccess: 1000 },
      { labels: { subvolume: 'home', reads: 'none' }, ok: false, lastAttempt: 3000, lastSuccess: null },
    ]);
    expect(text).toContain('btrfs_to_s3_last_verify_success_timestamp_seconds{subvolume="data",reads="all"} 1000\n');
    expect(text).not.toContain('btrfs_to_s3_last_verify_success_timestamp_seconds{subvolume="home"');
    expect(text).toContain('btrfs_to_s3_last_verify_attempt_timestamp_seconds{subvolume="home",reads="none"} 3000\n');
    expect(text).toContain('btrfs_to_s3_last_verify_success{subvolume="data",reads="all"} 0\n');
  });

  it('writes unlabelled samples for a command that runs as a whole', () => {
    const text = renderCheckTextfile('prune', [{ labels: {}, ok: true, lastAttempt: 5, lastSuccess: 5 }]);
    expect(text).toContain('\nbtrfs_to_s3_last_prune_success 1\n');
  });
});
