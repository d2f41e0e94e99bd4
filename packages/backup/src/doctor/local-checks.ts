import type { Btrfs } from '@org/btrfs-s3-btrfs';
import { type Config, errnoCode } from '@org/btrfs-s3-core';
import { constants } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encryptionCheck } from './encryption-check';
import { type DoctorCheck, fail, ok, warn } from './report';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Root, btrfs-progs, each configured subvolume, the snapshot directory, every local path a run writes, and encryption. */
export async function localChecks(config: Config, btrfs: Btrfs, userId: number | undefined): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  checks.push(
    userId === 0
      ? ok('root', 'running as root')
      : fail(
          'root',
          `running as uid ${userId ?? 'unknown'}: snapshots, btrfs send and the lock need root; run doctor as root, as the service runs`,
        ),
  );
  let btrfsRuns = false;
  try {
    checks.push(ok('btrfs', await btrfs.version()));
    btrfsRuns = true;
  } catch (error) {
    checks.push(fail('btrfs', `${messageOf(error)}; install btrfs-progs`));
  }
  if (btrfsRuns) {
    for (const path of config.subvolumes.paths) checks.push(await subvolumeCheck(btrfs, path));
  }
  checks.push(await snapshotDirCheck(config, btrfs));
  checks.push(...(await pathChecks(config)));
  checks.push(await encryptionCheck(config));
  return checks;
}

async function subvolumeCheck(btrfs: Btrfs, path: string): Promise<DoctorCheck> {
  try {
    const info = await btrfs.showSubvolume(path);
    return ok('subvolume', `${path}: subvolume ${info.uuid}`);
  } catch (error) {
    return fail('subvolume', `${path} (subvolumes.paths): ${messageOf(error)}`);
  }
}

async function snapshotDirCheck(config: Config, btrfs: Btrfs): Promise<DoctorCheck> {
  const dir = config.snapshots.base_dir;
  try {
    return (await btrfs.isOnBtrfs(dir))
      ? ok('snapshot-dir', `${dir} is on Btrfs`)
      : fail('snapshot-dir', `snapshots.base_dir ${dir} is not on Btrfs; snapshots are made on the filesystem of the subvolumes`);
  } catch (error) {
    return fail('snapshot-dir', `snapshots.base_dir ${dir}: ${messageOf(error)}`);
  }
}

/** Every local file a run writes: its directory, or the nearest existing ancestor a run would create it under, must be writable. */
async function pathChecks(config: Config): Promise<DoctorCheck[]> {
  const { global } = config;
  const files: [string, string][] = [
    ['global.state_path', global.state_path],
    ['global.metrics_path', global.metrics_path],
    ['global.lock_path', global.lock_path],
    ...(global.prometheus_textfile === undefined
      ? []
      : ([['global.prometheus_textfile', global.prometheus_textfile]] as [string, string][])),
  ];
  const checks: DoctorCheck[] = [];
  for (const [key, file] of files) checks.push(await writableCheck(key, dirname(file)));
  if (config.s3.spool_enabled) checks.push(await writableCheck('global.spool_dir', global.spool_dir), await spoolSpaceCheck(config));
  return checks;
}

async function writableCheck(key: string, dir: string): Promise<DoctorCheck> {
  try {
    const existing = await nearestExisting(dir);
    if (!(await stat(existing)).isDirectory()) return fail('local-path', `${key}: ${existing} is not a directory`);
    await access(existing, constants.W_OK);
    return ok('local-path', existing === dir ? `${key}: ${dir} is writable` : `${key}: ${dir} can be created in ${existing}`);
  } catch (error) {
    return fail('local-path', `${key}: ${dir} is not writable: ${messageOf(error)}`);
  }
}

async function spoolSpaceCheck(config: Config): Promise<DoctorCheck> {
  const { spool_dir: dir, spool_size_bytes: wanted } = config.global;
  try {
    const fs = await statfs(await nearestExisting(dir));
    const free = fs.bavail * fs.bsize;
    return free >= wanted
      ? ok('spool-space', `${dir}: ${free} bytes free, global.spool_size_bytes is ${wanted}`)
      : warn(
          'spool-space',
          `${dir}: ${free} bytes free, less than global.spool_size_bytes (${wanted}); a full spool disk fails the upload`,
        );
  } catch (error) {
    return warn('spool-space', `${dir}: free space unknown: ${messageOf(error)}`);
  }
}

async function nearestExisting(path: string): Promise<string> {
  for (let current = path; ; current = dirname(current)) {
    try {
      await stat(current);
      return current;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' || current === dirname(current)) throw error;
    }
  }
}
