import { ENV_PREFIX } from '@org/btrfs-s3-core';
import { dirname, resolve } from 'node:path';
import { resolveExecPath } from './exec-path';
import { isWithin, servicePaths, type UnitConfig } from './paths';
import { checkScratchDir } from './scratch';
import { renderDrillUnits, renderUnits, type UnitFiles } from './units';

/** What `prepareUnits` renders for: the config, this install, this shell. */
export interface PrepareInput {
  /** The config the units are rendered for, as loaded from `configPath` (with this shell's environment). */
  readonly config: UnitConfig;
  /** The config file, absolute or relative to the working directory. */
  readonly configPath: string;
  /** The CLI's entry script and how it was invoked; see resolveExecPath. */
  readonly binPath: string;
  /** How the running CLI was invoked (`process.argv[1]`). */
  readonly invokedAs?: string | undefined;
  /** The node binary running the CLI (`process.execPath`): the service runs the same one. */
  readonly nodePath: string;
  /** This shell's environment, checked for overrides the service will not have. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Also render the monthly drill units. `drill.scratch_dir` must then be set and be an
   * existing Btrfs subvolume (see checkScratchDir); otherwise a ScratchDirError (exit 2),
   * before anything else.
   */
  readonly drill?: boolean | undefined;
}

/** The units for this install, with what an install needs to know besides. */
export interface PreparedUnits {
  /** The executable ExecStart= runs. */
  readonly execPath: string;
  /** The absolute config path ExecStart= passes. */
  readonly configPath: string;
  /** The backup service and timer, and with `drill` the drill service and timer. */
  readonly units: UnitFiles;
  /** Writable directories to create before the first run (see ServicePaths.create). */
  readonly directories: readonly string[];
  /** Things that will make the service behave differently from this shell; worth a warning each. */
  readonly warnings: readonly string[];
}

const inPrivateTmp = (path: string) => isWithin(path, '/tmp') || isWithin(path, '/var/tmp');

/** The units for this install, and what an operator should know before relying on them. */
export async function prepareUnits(input: PrepareInput): Promise<PreparedUnits> {
  if (input.drill === true) await checkScratchDir(input.config);
  const execPath = await resolveExecPath({ binPath: input.binPath, invokedAs: input.invokedAs });
  const configPath = resolve(input.configPath);
  const nodeDir = dirname(input.nodePath);
  const options = { execPath, configPath, config: input.config, nodeDir };
  const units: UnitFiles = { ...renderUnits(options), ...(input.drill === true ? renderDrillUnits(options) : {}) };
  const paths = servicePaths(input.config);
  const warnings = [
    ...paths.privateTmp.map(
      ({ key, path }) =>
        `${key} is under ${path}: the service has a private /tmp and /var/tmp (PrivateTmp=yes), so it will neither see nor keep what is there`,
    ),
    ...[execPath, configPath, input.nodePath]
      .filter(inPrivateTmp)
      .map(
        (path) =>
          `${path} is under /tmp or /var/tmp, which the service sees only as its own empty private directories; install from a permanent location`,
      ),
    ...Object.keys(input.env)
      .filter((name) => name.startsWith(ENV_PREFIX))
      .sort()
      .map(
        (name) =>
          `${name} is set in this shell but the service will not have it; the units were rendered with it (add it with \`systemctl edit btrfs-to-s3.service\`, or put the value in the config)`,
      ),
  ];
  return { execPath, configPath, units, directories: paths.create, warnings };
}
