/**
 * systemd units for btrfs-to-s3: a sandboxed oneshot backup service, its daily timer,
 * optionally a restore drill service with its monthly timer, and their installation.
 */
export {
  renderUnits,
  renderDrillUnits,
  drillCalendar,
  drillRunAt,
  DRILL_SERVICE_NAME,
  DRILL_TIMER_NAME,
  DRILL_HOURS_AFTER_BACKUP,
  DEFAULT_CONFIG_PATH,
  DEFAULT_UNIT_DIR,
  SERVICE_NAME,
  TIMER_NAME,
  SYSTEMD_DEFAULT_PATH,
  RANDOMIZED_DELAY,
} from './units';
export type { UnitOptions, RenderedUnits, RenderedDrillUnits, UnitFiles } from './units';
export { servicePaths, drillServicePaths, isWithin } from './paths';
export type { UnitConfig, ServicePaths, DrillServicePaths } from './paths';
export {
  BACKUP_CAPABILITIES,
  ADDRESS_FAMILIES,
  SANDBOX_DIRECTIVES,
  REFUSED_DIRECTIVES,
  DRILL_CAPABILITIES,
  DRILL_SANDBOX_DIRECTIVES,
  DRILL_DROPPED_DIRECTIVES,
} from './sandbox';
export { checkScratchDir, scratchDirOf } from './scratch';
export { quoteExecutable, quoteArgument, quotePath, quoteEnvironment, UnitValueError } from './quote';
export { resolveExecPath } from './exec-path';
export type { ExecPathInput } from './exec-path';
export {
  planInstall,
  planUninstall,
  applyActions,
  describeAction,
  DAEMON_RELOAD,
  ENABLE_TIMER,
  DISABLE_TIMER,
  ENABLE_DRILL_TIMER,
  DISABLE_DRILL_TIMER,
} from './install';
export type { UnitAction, CommandRunner, InstallPlanOptions, UninstallPlanOptions } from './install';
export { prepareUnits } from './prepare';
export type { PrepareInput, PreparedUnits } from './prepare';
export { SystemdError, ScratchDirError } from './errors';
