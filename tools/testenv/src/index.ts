/** The project's real test environment: loop-mounted Btrfs and a local Ceph gateway. */
export { withLoopBtrfs } from './loop-btrfs';
export type { LoopBtrfsOptions } from './loop-btrfs';
export { testGateway, readEnvFile } from './gateway';
export type { TestGateway } from './gateway';
export { run } from './exec';
export { LOOP_BTRFS_SCRIPT, RGW_SCRIPT } from './paths';
export { startArchiveProxy, withArchiveProxy } from './archive-proxy';
export { startRefusingProxy } from './refusing-proxy';
export type { RefusalAnswer, RefusingProxy, RefusingProxyOptions } from './refusing-proxy';
export type { ArchiveProxy, ArchiveProxyOptions } from './archive-proxy';
export type { RestoreRequestRecord, RestoreTier } from './archive-state';
export type { SigningCredentials } from './sigv4';
export {
  Bucket,
  backupConfig,
  backupConfigText,
  gatewayEnv,
  MiB,
  sha256,
  uniquePrefix,
  until,
  writeConfig,
  writeRandomFiles,
} from './fixtures';
export type { ConfigExtras } from './fixtures';
export { runCli, runCliAsync, startCli } from './cli-runner';
export type { CliProcess, CliResult, Env } from './cli-runner';
export {
  startFaultProxy,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyStats,
  type ProxiedRequest,
  type RequestFault,
} from './fault-proxy';
