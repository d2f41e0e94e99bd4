/** systemd units for btrfs-to-s3: a sandboxed oneshot backup service, its daily timer, and their installation. */
export {
  renderUnits,
  DEFAULT_CONFIG_PATH,
  DEFAULT_UNIT_DIR,
  SERVICE_NAME,
  TIMER_NAME,
  SYSTEMD_DEFAULT_PATH,
  RANDOMIZED_DELAY,
} from './units';
export type { UnitOptions, RenderedUnits } from './units';
export { servicePaths, isWithin } from './paths';
export type { UnitConfig, ServicePaths } from './paths';
export { BACKUP_CAPABILITIES, ADDRESS_FAMILIES, SANDBOX_DIRECTIVES, REFUSED_DIRECTIVES } from './sandbox';
export { quoteExecutable, quoteArgument, quotePath, quoteEnvironment, UnitValueError } from './quote';
export { resolveExecPath } from './exec-path';
export type { ExecPathInput } from './exec-path';
export { planInstall, planUninstall, applyActions, describeAction, DAEMON_RELOAD, ENABLE_TIMER, DISABLE_TIMER } from './install';
export type { UnitAction, CommandRunner, InstallPlanOptions, UninstallPlanOptions } from './install';
export { prepareUnits } from './prepare';
export type { PrepareInput, PreparedUnits } from './prepare';
export { SystemdError } from './errors';
