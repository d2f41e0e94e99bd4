// Carries the CLI's oclif plugins (apps/cli/package.json `oclif.plugins`) into the
// release, where oclif looks for them: node_modules/<name>/ beside the release's
// package.json. Each becomes one CommonJS file, lib/index.js, exporting its commands by
// id (strategy `explicit`, as the CLI's own), with @oclif/core resolved to the release's
// lib/oclif.js, so CLI and plugins share one oclif; and a package.json and an
// oclif.manifest.json, so help lists its commands without loading them.
// A plugin that finds its commands by a directory scan (`oclif.commands` a path, as
// @oclif/plugin-autocomplete does) gets the list written from that directory. Plugin
// hooks are not carried: the only ones in use (plugin-autocomplete's) run after
// `plugins install`, which this CLI does not have (docs/dependencies.md).
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * An esbuild plugin: `@oclif/core` is the release's lib/oclif.js, seen from `outdir`. A
 * deep import would bundle a second oclif, whose errors the first does not recognise.
 */
export function sharedOclif(stage, outdir) {
  const shared = relative(outdir, join(stage, 'lib', 'oclif.js'))
    .split(sep)
    .join('/');
  return {
    name: 'shared-oclif',
    setup(build) {
      build.onResolve({ filter: /^@oclif\/core(\/|$)/ }, ({ path, importer }) => {
        if (path !== '@oclif/core')
          return { errors: [{ text: `${importer} imports ${path}: import @oclif/core itself, which the release shares as lib/oclif.js` }] };
        return { path: shared.startsWith('.') ? shared : `./${shared}`, external: true };
      });
    },
  };
}

/** The command files under `dir` by oclif id (`autocomplete/script.js` is `autocomplete:script`, `x/index.js` is `x`). */
function scannedCommands(dir) {
  const commands = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
    const file = join(entry.parentPath, entry.name);
    const id = relative(dir, file)
      .replace(/\.js$/, '')
      .split(sep)
      .filter((part, index, parts) => !(part === 'index' && index === parts.length - 1))
      .join(':');
    commands[id] = file;
  }
  return commands;
}

/** The module to bundle for `root`'s commands: its own explicit target, or one written for a scanned directory. */
function commandsEntry(root, commands, scratch) {
  if (typeof commands === 'object' && commands.strategy === 'explicit')
    return { file: join(root, commands.target), identifier: commands.identifier ?? 'default' };
  if (typeof commands !== 'string') throw new Error(`plugin at ${root}: oclif.commands must be a directory or an explicit target`);
  const scanned = Object.entries(scannedCommands(join(root, commands)));
  const file = join(scratch, 'commands.mjs');
  const lines = scanned.map(([, path], index) => `import c${index} from ${JSON.stringify(path)};`);
  lines.push(`export const COMMANDS = { ${scanned.map(([id], index) => `${JSON.stringify(id)}: c${index}`).join(', ')} };`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, identifier: 'COMMANDS' };
}

/**
 * Bundles every plugin `cli` lists into `stage`/node_modules; `options` are the CLI bundle's
 * esbuild options. Resolves with their versions by name: oclif loads a listed plugin only
 * if the release's package.json also names it in `dependencies`.
 */
export async function bundlePlugins(stage, cli, cliDir, options) {
  const scratch = join(stage, '..', '.plugins');
  const versions = {};
  for (const name of cli.oclif.plugins ?? []) {
    const root = realpathSync(join(cliDir, 'node_modules', name));
    const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const dest = join(stage, 'node_modules', name);
    const outfile = join(dest, 'lib', 'index.js');
    mkdirSync(scratch, { recursive: true });
    const entry = commandsEntry(root, pjson.oclif.commands, scratch);
    await build({ ...options, entryPoints: [entry.file], outfile, plugins: [sharedOclif(stage, dirname(outfile))] });
    const { hooks: _hooks, devPlugins: _devPlugins, commands: _commands, ...settings } = pjson.oclif;
    const release = {
      name: pjson.name,
      version: pjson.version,
      description: pjson.description,
      license: pjson.license,
      oclif: { ...settings, commands: { strategy: 'explicit', target: './lib/index.js', identifier: entry.identifier } },
    };
    writeFileSync(join(dest, 'package.json'), `${JSON.stringify(release, null, 2)}\n`);
    rmSync(scratch, { recursive: true, force: true });
    versions[name] = pjson.version;
  }
  return versions;
}

/** Writes each carried plugin's oclif.manifest.json with the release's own oclif (`Plugin`, from lib/oclif.js). */
export async function writePluginManifests(stage, cli, Plugin) {
  for (const name of cli.oclif.plugins ?? []) {
    const root = resolve(stage, 'node_modules', name);
    const plugin = new Plugin({ errorOnManifestCreate: true, ignoreManifest: true, name, respectNoCacheDefault: true, root, type: 'core' });
    await plugin.load();
    writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest)}\n`);
  }
}
