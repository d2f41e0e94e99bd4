import { drillServicePaths, isWithin, servicePaths, type UnitConfig } from './paths';

const config = (global: Partial<UnitConfig['global']> = {}, subvolumes: readonly string[] = ['/srv/data']): UnitConfig => ({
  global: {
    state_path: '/root/.local/state/btrfs_to_s3/state.json',
    lock_path: '/run/btrfs-to-s3/lock',
    spool_dir: '/var/tmp/btrfs_to_s3/spool',
    metrics_path: '/root/.local/state/btrfs_to_s3/metrics.json',
    ...global,
  },
  schedule: { run_at: '02:00' },
  snapshots: { base_dir: '/srv/.snapshots' },
  subvolumes: { paths: subvolumes },
});

describe('servicePaths', () => {
  it('lists each writable directory once, for the defaults of a root install', () => {
    expect(servicePaths(config())).toEqual({
      writable: ['/srv/.snapshots', '/root/.local/state/btrfs_to_s3'],
      create: ['/srv/.snapshots', '/root/.local/state/btrfs_to_s3'],
      mounts: ['/srv/.snapshots', '/root/.local/state/btrfs_to_s3', '/srv/data'],
      privateTmp: [],
      // The lock's directory under /run: made by systemd at every start (RuntimeDirectory=), as /run is emptied at boot.
      runtime: ['btrfs-to-s3'],
    });
  });

  it('grants a lock directory elsewhere as a writable path the install creates', () => {
    const paths = servicePaths(config({ lock_path: '/var/lib/btrfs-to-s3/lock' }));
    expect(paths.writable).toContain('/var/lib/btrfs-to-s3');
    expect(paths.create).toContain('/var/lib/btrfs-to-s3');
    expect(paths.runtime).toEqual([]);
  });

  it("grants the Prometheus textfile directory but leaves creating it to node_exporter's package", () => {
    const paths = servicePaths(config({ prometheus_textfile: '/var/lib/prometheus/node-exporter/btrfs_to_s3.prom' }));
    expect(paths.writable).toContain('/var/lib/prometheus/node-exporter');
    expect(paths.create).not.toContain('/var/lib/prometheus/node-exporter');
  });

  it('names configured paths the service would only see in its private /tmp, except the spool', () => {
    const paths = servicePaths(
      config({ state_path: '/tmp/state/state.json', spool_dir: '/var/tmp/spool' }, ['/srv/data', '/var/tmp/data']),
    );
    expect(paths.privateTmp).toEqual([
      { key: 'global.state_path', path: '/tmp/state' },
      { key: 'subvolumes.paths', path: '/var/tmp/data' },
    ]);
    expect(paths.writable).not.toContain('/tmp/state');
  });
});

describe('drillServicePaths', () => {
  it('grants the scratch directory and the metrics directories, and waits for the snapshots to be mounted', () => {
    expect(drillServicePaths(config({ prometheus_textfile: '/var/lib/prometheus/node-exporter/btrfs_to_s3.prom' }), '/srv/.drill')).toEqual(
      {
        writable: ['/srv/.drill', '/root/.local/state/btrfs_to_s3', '/var/lib/prometheus/node-exporter'],
        mounts: ['/srv/.drill', '/root/.local/state/btrfs_to_s3', '/var/lib/prometheus/node-exporter', '/srv/.snapshots'],
      },
    );
  });

  it('leaves out a metrics directory under /tmp: the service has a private one', () => {
    expect(drillServicePaths(config({ metrics_path: '/tmp/metrics.json' }), '/srv/.drill').writable).toEqual(['/srv/.drill']);
  });
});

describe('isWithin', () => {
  it('tells a directory, its descendants, and a sibling sharing its prefix apart', () => {
    expect(isWithin('/srv/spool', '/srv/spool')).toBe(true);
    expect(isWithin('/srv/spool/bin/run.js', '/srv/spool')).toBe(true);
    expect(isWithin('/srv/spooler/run.js', '/srv/spool')).toBe(false);
    expect(isWithin('/srv', '/srv/spool')).toBe(false);
  });
});
