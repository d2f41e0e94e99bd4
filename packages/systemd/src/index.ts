/** systemd units for btrfs-to-s3: a oneshot backup service and its daily timer. */
export { renderUnits, DEFAULT_CONFIG_PATH } from './units';
export type { UnitOptions, RenderedUnits } from './units';
