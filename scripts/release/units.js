// Writes the example systemd units shipped in the release (share/systemd), rendered for
// the .deb's layout and share/examples/config.toml. `btrfs-to-s3 systemd install`
// renders them for the real config, which is what a host should use.
// Usage: node scripts/release/units.js <stage directory>
'use strict';
const { readFileSync, writeFileSync, mkdirSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
// The CLI's own dependencies, as the CLI resolves them.
const cliRequire = createRequire(join(__dirname, '..', '..', 'apps', 'cli', 'package.json'));
const { parseConfig } = cliRequire('@org/btrfs-s3-core');
const { renderUnits } = cliRequire('@org/btrfs-s3-systemd');

// Rendered for root, whatever user builds the release: `~` in the defaults is root's home.
process.env.HOME = '/root';
const stage = process.argv[2];
if (!stage) throw new Error('usage: units.js <stage directory>');
const example = readFileSync(join(stage, 'share', 'examples', 'config.toml'), 'utf8');
const units = renderUnits({
  execPath: '/opt/btrfs-to-s3/bin/btrfs-to-s3',
  configPath: '/etc/btrfs-to-s3/config.toml',
  config: parseConfig(example),
  nodeDir: '/opt/btrfs-to-s3/node/bin',
});
mkdirSync(join(stage, 'share', 'systemd'), { recursive: true });
for (const [name, text] of Object.entries(units)) writeFileSync(join(stage, 'share', 'systemd', name), text);
