import { basename, dirname, relative, isAbsolute } from 'node:path';

/** The parts of the config the units are rendered from (a full `Config` fits). */
export interface UnitConfig {
  /** The files a run writes: their directories become writable. */
  readonly global: {
    readonly state_path: string;
    readonly lock_path: string;
    readonly spool_dir: string;
    readonly metrics_path: string;
    readonly prometheus_textfile?: string | undefined;
  };
  /** When the timer fires, HH:MM local time. */
  readonly schedule: { readonly run_at: string };
  /** Where snapshots are made: writable. */
  readonly snapshots: { readonly base_dir: string };
  /** What is backed up: read-only, but must be mounted. */
  readonly subvolumes: { readonly paths: readonly string[] };
  /** Where the drill restores to; only the drill units read it. */
  readonly drill?: { readonly scratch_dir?: string | undefined } | undefined;
}

/** What the service may write, and what it must find mounted, derived from the config. */
export interface ServicePaths {
  /**
   * ReadWritePaths=: the snapshot directory and the directories of the state, lock,
   * metrics and Prometheus files and the spool. The subvolumes are not among them: a
   * read-only snapshot is taken from a read-only mount of its source, so the live data
   * stays read-only to the service.
   */
  readonly writable: readonly string[];
  /**
   * The writable directories an install creates when missing: under ProtectSystem=strict
   * the service cannot create them itself (their parents are read-only). Not the
   * Prometheus textfile directory: node_exporter owns it, with its own permissions.
   */
  readonly create: readonly string[];
  /** RequiresMountsFor=: every writable path and every subvolume. */
  readonly mounts: readonly string[];
  /**
   * RuntimeDirectory=: configured directories directly under /run (the default lock's,
   * /run/btrfs-to-s3), by name. /run is emptied at boot, so an install cannot create
   * them once; systemd makes each (root-only, mode 0700) when the service starts.
   */
  readonly runtime: readonly string[];
  /**
   * Configured paths under /tmp or /var/tmp, other than the spool. The service gets
   * private ones (PrivateTmp=yes), emptied after every run, so it neither sees nor
   * keeps these. (A spool there is fine: it only holds the parts of the run in progress.)
   */
  readonly privateTmp: readonly { readonly key: string; readonly path: string }[];
}

const PRIVATE_TMP = ['/tmp', '/var/tmp'];
const inTmp = (path: string) => PRIVATE_TMP.some((tmp) => isWithin(path, tmp));

/** Whether `path` is `dir` or inside it. */
export function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const unique = (paths: readonly string[]): string[] => [...new Set(paths)];

/** The sandbox's paths for `config`; see ServicePaths. */
export function servicePaths(config: UnitConfig): ServicePaths {
  const { global } = config;
  const wanted: { key: string; path: string }[] = [
    { key: 'snapshots.base_dir', path: config.snapshots.base_dir },
    { key: 'global.state_path', path: dirname(global.state_path) },
    { key: 'global.lock_path', path: dirname(global.lock_path) },
    { key: 'global.metrics_path', path: dirname(global.metrics_path) },
    ...(global.prometheus_textfile === undefined ? [] : [{ key: 'global.prometheus_textfile', path: dirname(global.prometheus_textfile) }]),
    { key: 'global.spool_dir', path: global.spool_dir },
  ];
  // A host path under /tmp is hidden behind the private one, so granting it would be a no-op
  // (and, without the `-` prefix, a namespace setup failure).
  const inRun = (path: string) => dirname(path) === '/run';
  const granted = wanted.filter((entry) => !inTmp(entry.path) && !inRun(entry.path));
  const writable = unique(granted.map((entry) => entry.path));
  const create = unique(granted.filter((entry) => entry.key !== 'global.prometheus_textfile').map((entry) => entry.path));
  const runtime = unique(wanted.filter((entry) => inRun(entry.path)).map((entry) => basename(entry.path)));
  const privateTmp = wanted.filter((entry) => inTmp(entry.path) && entry.key !== 'global.spool_dir');
  const subvolumes = config.subvolumes.paths;
  return {
    writable,
    create,
    mounts: unique([...writable, ...subvolumes]),
    runtime,
    privateTmp: [...privateTmp, ...subvolumes.filter(inTmp).map((path) => ({ key: 'subvolumes.paths', path }))],
  };
}

/** What the drill service may write, and what it must find mounted. */
export interface DrillServicePaths {
  /**
   * ReadWritePaths=: the scratch directory, and the directories of the metrics and
   * Prometheus files, where the drill writes `<name>-drill.json` and `<name>-drill.prom`
   * beside the backup's. Not the snapshot directory: the drill compares restores with
   * the snapshots there and must not be able to delete one (nor the state, lock or
   * spool, which it does not use) unless they share a directory with the metrics.
   */
  readonly writable: readonly string[];
  /** RequiresMountsFor=: the writable directories and the snapshot directory (the trees a restore is compared with). */
  readonly mounts: readonly string[];
}

/** The drill service's paths for `config` and its scratch directory `scratchDir`; see DrillServicePaths. */
export function drillServicePaths(config: UnitConfig, scratchDir: string): DrillServicePaths {
  const { global } = config;
  const wanted = [
    scratchDir,
    dirname(global.metrics_path),
    ...(global.prometheus_textfile === undefined ? [] : [dirname(global.prometheus_textfile)]),
  ];
  const writable = unique(wanted.filter((path) => !inTmp(path)));
  return { writable, mounts: unique([...writable, config.snapshots.base_dir]) };
}
