import type { BackupKind } from '../snapshots/names';

/**
 * The S3 layout (SPEC section 4), relative to the bucket:
 *
 *   <prefix>/subvol/<name>/current.json
 *   <prefix>/subvol/<name>/<full|inc>/<timestamp>/manifest.json
 *   <prefix>/subvol/<name>/<full|inc>/<timestamp>/chunks/part-00000.bin
 */
export function subvolumePrefix(prefix: string, subvolume: string): string {
  return `${prefix}/subvol/${subvolume}`;
}

export function pointerKey(prefix: string, subvolume: string): string {
  return `${subvolumePrefix(prefix, subvolume)}/current.json`;
}

/** The directory of one backup; `timestamp` is the snapshot's compact UTC timestamp. */
export function backupPrefix(prefix: string, subvolume: string, kind: BackupKind, timestamp: string): string {
  return `${subvolumePrefix(prefix, subvolume)}/${kind}/${timestamp}`;
}

export function manifestKey(backup: string): string {
  return `${backup}/manifest.json`;
}

export function chunkKey(backup: string, index: number): string {
  return `${backup}/chunks/part-${String(index).padStart(5, '0')}.bin`;
}
