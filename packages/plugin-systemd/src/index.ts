import SystemdInstall from './commands/install';
import SystemdShow from './commands/show';
import SystemdUninstall from './commands/uninstall';

/**
 * @org/btrfs-s3-plugin-systemd: an oclif plugin of btrfs-to-s3 (its package.json
 * `oclif.commands`, strategy `explicit`), listed in the CLI's `oclif.plugins`. Its
 * commands extend BaseCommand (@org/btrfs-s3-command) and call @org/btrfs-s3-systemd;
 * docs/plugins.md shows how another team writes one like it.
 */
export const COMMANDS = {
  'systemd:install': SystemdInstall,
  'systemd:show': SystemdShow,
  'systemd:uninstall': SystemdUninstall,
};
