import { type Config, parseConfig } from '@org/btrfs-s3-core';

/** The bucket tests' config: one subvolume, one generation kept, the lock and metrics under `dir`; `s3` adds `[s3]` lines. */
export function bucketConfig(dir: string, s3 = ''): Config {
  return parseConfig(`
[global]
lock_path = "${dir}/lock"
metrics_path = "${dir}/metrics.json"
prometheus_textfile = "${dir}/textfile/btrfs-to-s3.prom"
[snapshots]
base_dir = "/srv/.snapshots"
[subvolumes]
paths = ["/srv/data"]
[s3]
bucket = "backups"
region = "eu-west-1"
prefix = "host1"
retain_generations = 1
${s3}
`);
}
