/**
 * @org/btrfs-s3-core: the config schema, errors and exit codes, and logging shared by
 * every btrfs-to-s3 package. No process spawning and no network I/O live here.
 *
 * The public API is this file: everything exported is listed by name.
 */
export {
  ConfigSchema,
  RemoteConfigSchema,
  CONFIG_SECTIONS,
  STORAGE_CLASSES,
  DEFAULT_PRICES,
  LOG_LEVELS,
  VERIFY_MODES,
  RESTORE_TIERS,
  CHECKSUM_MODES,
  SSE_MODES,
  COMPRESSIONS,
  AGE_RECIPIENT,
  OBJECT_LOCK_MODES,
  expandHome,
  subvolumeName,
} from './config/schema';
export type { Config, ConfigInput, RemoteConfig } from './config/schema';
export { ENV_PREFIX, envName, applyEnvOverrides } from './config/env';
export type { Env, EnvOverrides } from './config/env';
export { validateConfig, parseConfig, loadConfig, loadRemoteConfig } from './config/load';
export { commandFilePath, metricsFiles, readMetricsRecord } from './config/metrics-files';
export type { MetricsCommand } from './config/metrics-files';
export type { ConfigResult, S3Flags } from './config/load';
export type { ConfigIssue } from './config/issues';
export { formatIssue } from './config/issues';
export { KiB, MiB, GiB, TiB, S3_LIMITS, formatSize, parseRate } from './config/units';
export type { Quantity } from './config/units';
export type { QuantityUnit } from './config/units';
export { DEFAULT_LOCK_PATH, LEGACY_LOCK_PATHS, ROOT_STATE_DIR, defaultStateDir, legacyStateDir } from './config/default-paths';
export { migrateLegacyStatePaths, withLegacyStatePaths } from './config/legacy-paths';
export { ExitCode } from './exit-codes';
export { mapBounded } from './bounded';
export { BtrfsToS3Error, ConfigError, InterruptedError, ThawPendingError, errnoCode, exitCodeOf } from './errors';
export { createLogger, silentLogger, LOG_FORMATS } from './logging/logger';
export type { Logger, LoggerOptions, LogLevel, LogFormat } from './logging/logger';
export { REDACTED, redactText, redactValue, secretsFromEnv } from './logging/redact';
export { formatSnapshotName, parseSnapshotName, nextSnapshotName, compactTimestamp } from './snapshots/names';
export type { BackupKind, SnapshotName } from './snapshots/names';
export { snapshotsToDelete } from './snapshots/retention';
export type { RetentionInput } from './snapshots/retention';
export { StateSchema, SubvolumeStateSchema, STATE_VERSION, emptyState } from './state/schema';
export type { State, SubvolumeState } from './state/schema';
export { readState, writeState, StateError } from './state/store';
export {
  RESUME_VERSION,
  ResumeRecordSchema,
  ResumeChunkSchema,
  resumeRecordPath,
  readResumeRecord,
  writeResumeRecord,
  deleteResumeRecord,
  isResumeLive,
  resumedBytes,
  liveResumeRecords,
  OpenUploadRecordSchema,
  openUploadRecordPath,
  writeOpenUploadRecord,
} from './state/resume';
export type { ResumeRecord, ResumeChunk, ResumeRead, OpenUploadRecord } from './state/resume';
export { planBackups, selectSubvolumes, nextDue, UnknownSubvolumeError } from './planner/plan';
export type { LocalSnapshot, PlanInput, PlanOptions, PlannedAction, SubvolumePlan } from './planner/plan';
export { acquireLock, withLock, lockHolder, LockBusyError, LockError } from './lock/lock';
export { withActivity, ActivityBusyError } from './lock/activity';
export type { Activity, ActivityOptions } from './lock/activity';
export type { LockHandle, LockInfo, LockOptions } from './lock/lock';
export { procfsProbe } from './lock/process-probe';
export type { ProcessProbe } from './lock/process-probe';
export {
  ManifestSchema,
  ManifestV1Schema,
  ManifestChunkSchema,
  ManifestPartSchema,
  ManifestPrivateSchema,
  PointerSchema,
  MANIFEST_VERSION,
  READABLE_MANIFEST_VERSIONS,
  POINTER_VERSION,
} from './manifest/schema';
export type {
  Manifest,
  ManifestChunk,
  StoredChunk,
  ManifestDocument,
  ManifestPart,
  ManifestPrivate,
  ManifestV1,
  Pointer,
} from './manifest/schema';
export { subvolumePrefix, pointerKey, backupPrefix, manifestKey, chunkKey } from './manifest/keys';
export { parseManifest, parsePointer, serializeManifest, serializePointer, FormatError } from './manifest/parse';
export { isPlainStream, storedStreamSha256 } from './manifest/encoding';
export { assertPartsWithin, partMemoryLimit, PartLimitError } from './manifest/part-limit';
export { WriterSchema, writerIdentity, WriterConflictError } from './writer/writer';
export { writerMarkerKey, serializeWriterMarker, parseWriterMarker, WriterMarkerSchema } from './writer/marker';
export type { WriterMarker } from './writer/marker';
export type { Writer } from './writer/writer';
export { writeFileAtomic } from './fs/atomic';
export { ProcessError, exitError, lastMeaningfulLine } from './process/runner';
export type { ProcessRunner, ProcessResult, ProcessExit, SpawnedProcess, SpawnOptions } from './process/runner';
export { isRecyclingReadable } from './process/recycling';
export type { RecyclingReadable } from './process/recycling';
export { resolveChain, resolveStartKey, ChainError } from './chain/chain';
export type { ChainLink, ManifestSource } from './chain/chain';
export type { ProgressEvent, ProgressListener } from './progress';
export { buildInventory, dirOfManifest, restorablePoints, planRemoteRetention, earlyDeletions, MINIMUM_STORAGE_DAYS } from './retention';
export type {
  BackupState,
  EarlyDeletion,
  Generation,
  InventoryInput,
  KeepReason,
  DeleteReason,
  ManifestRead,
  PointerRead,
  RemoteBackup,
  RemoteInventory,
  RemoteObject,
  RemoteRetentionPlan,
  RemoteRetentionSettings,
  RetentionEntry,
  RootState,
} from './retention';
