// Bundles the CLI (apps/cli/dist/app.js and everything it imports, oclif and the AWS
// SDK included) into one CommonJS file for the release, and writes the release's
// package.json: oclif reads its commands and hooks from that file (strategy
// `explicit`), so nothing is looked up in node_modules at run time.
// Usage: node scripts/release/bundle.mjs <stage directory>
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

// The entry bin/btrfs-to-s3 starts. V8's compile cache saves most of the time spent
// compiling the bundle at each start; it is kept where only this user writes, never in
// a shared /tmp, since root reads it back. Where it cannot be written (the service's
// read-only /var), Node carries on without it.
const MAIN = `'use strict';
const { enableCompileCache } = require('node:module');
const { homedir } = require('node:os');
const { join } = require('node:path');
const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
enableCompileCache(process.getuid() === 0 ? '/var/cache/btrfs-to-s3/compile-cache' : join(cacheHome, 'btrfs-to-s3', 'compile-cache'));
require('./cli.js').run(__dirname);
`;

const stage = process.argv[2];
if (!stage) throw new Error('usage: bundle.mjs <stage directory>');
const cli = JSON.parse(readFileSync('apps/cli/package.json', 'utf8'));
const runtime = readFileSync('.node-version', 'utf8').trim();
mkdirSync(join(stage, 'lib'), { recursive: true });

await build({
  entryPoints: ['apps/cli/dist/app.js'],
  outfile: join(stage, 'lib', 'cli.js'),
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
});

// What oclif reads: the CLI's own settings, with the commands and hooks in lib/cli.js.
const { oclif } = cli;
const release = {
  name: cli.name,
  version: cli.version,
  description: cli.description,
  license: cli.license,
  bin: { 'btrfs-to-s3': 'bin/btrfs-to-s3' },
  engines: { node: runtime },
  oclif: {
    ...oclif,
    commands: { ...oclif.commands, target: './lib/cli.js' },
    hooks: Object.fromEntries(Object.entries(oclif.hooks).map(([name, hook]) => [name, { ...hook, target: './lib/cli.js' }])),
  },
};
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(release, null, 2)}\n`);
writeFileSync(join(stage, 'lib', 'main.js'), MAIN);
