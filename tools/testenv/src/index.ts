/** The project's real test environment: loop-mounted Btrfs and a local Ceph gateway. */
export { withLoopBtrfs } from './loop-btrfs';
export type { LoopBtrfsOptions } from './loop-btrfs';
export { testGateway, readEnvFile } from './gateway';
export type { TestGateway } from './gateway';
export { run } from './exec';
export { LOOP_BTRFS_SCRIPT, RGW_SCRIPT } from './paths';
export { startArchiveProxy } from './archive-proxy';
export type { ArchiveProxy, ArchiveProxyOptions } from './archive-proxy';
export type { RestoreRequestRecord, RestoreTier } from './archive-state';
export type { SigningCredentials } from './sigv4';
