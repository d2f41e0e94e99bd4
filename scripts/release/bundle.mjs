// Bundles the CLI for the release with esbuild, in two CommonJS files: lib/oclif.js
// (@oclif/core and what it imports) and lib/cli.js (apps/cli/dist/app.js and
// everything else it imports, our packages and the AWS SDK included), which requires
// ./oclif.js, so both share one oclif (its errors are checked with instanceof). Copies
// beside them the entry, the commands target and the loader with the code cache
// (scripts/release/lib). Writes the release's package.json and oclif.manifest.json:
// oclif reads its commands and hooks from lib/commands.js (strategy `explicit`), and the
// plugins from node_modules/ (scripts/release/plugins.mjs); with the manifests it reads them
// only to run a command: `--help`, `--version` and a topic start oclif alone
// (docs/release.md, "Start-up").
// Usage: node scripts/release/bundle.mjs <stage directory>
import { build } from 'esbuild';
import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { bundlePlugins, sharedOclif, writePluginManifests } from './plugins.mjs';

const stage = process.argv[2];
if (!stage) throw new Error('usage: bundle.mjs <stage directory>');
const cli = JSON.parse(readFileSync('apps/cli/package.json', 'utf8'));
const runtime = readFileSync('.node-version', 'utf8').trim();
mkdirSync(join(stage, 'lib'), { recursive: true });

const options = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${runtime.split('.')[0]}`,
  // Whitespace and syntax only: class and function names stay, as errors and logs show them.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'external',
  // Development-only paths of oclif (running TypeScript sources); the release runs compiled code.
  external: ['typescript', 'ts-node'],
  logLevel: 'warning',
};

await build({
  ...options,
  entryPoints: [createRequire(resolve('apps/cli/package.json')).resolve('@oclif/core')],
  outfile: join(stage, 'lib', 'oclif.js'),
});
await build({
  ...options,
  entryPoints: ['apps/cli/dist/app.js'],
  outfile: join(stage, 'lib', 'cli.js'),
  plugins: [sharedOclif(stage, join(stage, 'lib'))],
});
// The plugins in oclif.plugins (the systemd commands, shell completion), beside it.
const plugins = await bundlePlugins(stage, cli, resolve('apps/cli'), options);

// What oclif reads: the CLI's own settings, with the commands and hooks in lib/cli.js
// (through lib/commands.js, which loads it with its code cache), and before any other
// init hook lib/load.js's, which notes the command for that cache.
const { oclif } = cli;
const hooks = Object.fromEntries(
  Object.entries(oclif.hooks).map(([name, hook]) => [name, [hook].flat().map((one) => ({ ...one, target: './lib/commands.js' }))]),
);
hooks.init = [{ target: './lib/load.js', identifier: 'init' }, ...(hooks.init ?? [])];
const release = {
  name: cli.name,
  version: cli.version,
  description: cli.description,
  license: cli.license,
  bin: { 'btrfs-to-s3': 'bin/btrfs-to-s3' },
  engines: { node: runtime },
  dependencies: plugins,
  oclif: {
    ...oclif,
    commands: { ...oclif.commands, target: './lib/commands.js' },
    hooks,
  },
};
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(release, null, 2)}\n`);
// The entry (main.js), the commands target (commands.js) and the loader both use (load.js).
for (const file of ['main.js', 'commands.js', 'load.js']) copyFileSync(join(import.meta.dirname, 'lib', file), join(stage, 'lib', file));

// The manifest, as `oclif manifest` writes it, by the release's own oclif from the staged
// tree: every command's id, summary, flags and args, so that help, --version and a topic
// load no command. No code cache for this build-time run (lib/load.js).
process.env.NODE_DISABLE_COMPILE_CACHE = '1';
const { Plugin } = createRequire(import.meta.url)(resolve(stage, 'lib', 'oclif.js'));
const plugin = new Plugin({
  errorOnManifestCreate: true,
  ignoreManifest: true,
  isRoot: true,
  respectNoCacheDefault: true,
  root: resolve(stage),
  type: 'core',
});
await plugin.load();
writeFileSync(join(stage, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest)}\n`);
await writePluginManifests(stage, cli, Plugin);
