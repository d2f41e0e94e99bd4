import { type LocalSnapshot, loadConfig, parseManifest, planBackups, readState, type SubvolumePlan } from '@org/btrfs-s3-core';

/**
 * What a backup run would do now, per configured subvolume: the planner is a pure
 * function, so the caller supplies what exists on disk and in the bucket.
 */
export async function whatIsDue(
  configPath: string,
  localSnapshots: ReadonlyMap<string, readonly LocalSnapshot[]>,
  manifestExists: (key: string) => boolean,
): Promise<SubvolumePlan[]> {
  // Validates the file and BTRFS_TO_S3__SECTION__KEY overrides; a ConfigError lists every problem.
  const config = await loadConfig(configPath, process.env);
  const state = await readState(config.global.state_path); // a missing file is a first run
  const parents = Object.values(state.subvolumes).map((entry) => entry.last_manifest);
  return planBackups({
    config,
    state,
    now: new Date(),
    localSnapshots,
    remoteManifestExists: new Map(parents.map((key) => [key, manifestExists(key)])),
  });
}

/** The chunk objects of one backup, in stream order, from its manifest's text. */
export function chunkKeys(manifestKey: string, manifestText: string): string[] {
  // Throws FormatError naming the key for invalid JSON, a wrong shape or an unknown version.
  return parseManifest(manifestKey, manifestText).chunks.map((chunk) => chunk.key);
}
