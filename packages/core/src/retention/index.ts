/** Remote retention: what a subvolume holds in the bucket (list) and what prune deletes. */
export { buildInventory, dirOfManifest, restorablePoints } from './inventory';
export type {
  BackupState,
  Generation,
  InventoryInput,
  ManifestRead,
  PointerRead,
  RemoteBackup,
  RemoteInventory,
  RemoteObject,
  RootState,
} from './inventory';
export { planRemoteRetention } from './remote';
export type { DeleteReason, KeepReason, RemoteRetentionPlan, RemoteRetentionSettings, RetentionEntry } from './remote';
export { earlyDeletions, MINIMUM_STORAGE_DAYS } from './storage-duration';
export type { EarlyDeletion } from './storage-duration';
