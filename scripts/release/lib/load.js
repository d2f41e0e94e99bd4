// Loads a bundle of the release (lib/oclif.js, lib/cli.js) as a CommonJS module, with a
// V8 code cache made at the end of the run rather than at compile time.
//
// Node's compile cache (module.enableCompileCache) serializes a module's code as soon as
// it is compiled, before it runs. V8 compiles a function only when it is first called,
// so for a bundle that cache holds little more than the top level, and every run
// compiled again all the oclif and command code it used. vm.Script's createCachedData,
// called at exit, takes every function compiled so far, those that came from the cache
// included (the Node documentation's example for it), and the next run starts with them
// compiled. What a run compiles depends on what it does, so:
// - lib/cli.js keeps one cache per command (the init hook below);
// - lib/oclif.js keeps one cache, and notes which kinds of run made it: one that ran a
//   command, one that did not (--help, --version). The first run of the other kind
//   makes it again, with the code of both.
//
// The cache lives where only the running user writes (for root /var/cache/btrfs-to-s3,
// the unit's CacheDirectory=), never a shared /tmp as Node's default would be, since root
// runs the code it holds. It is named by the bundle's CRC-32, as Node's
// is (V8 itself checks a cache against its source's length only), in a directory per
// Node version. V8 rejects a cache made by another V8 or with other flags; it is made
// again then. Where it cannot be written (the service's read-only /var), the bundle runs
// without it. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node's;
// NODE_DEBUG=btrfs-to-s3-cache says what it did.
'use strict';
const Module = require('node:module');
const { accessSync, constants: fsConstants, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { homedir } = require('node:os');
const { basename, join } = require('node:path');
const { debuglog } = require('node:util');
const { Script, constants } = require('node:vm');
const { crc32 } = require('node:zlib');

const debug = debuglog('btrfs-to-s3-cache');
const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
const cacheDir = join(process.getuid() === 0 ? '/var/cache/btrfs-to-s3' : join(cacheHome, 'btrfs-to-s3'), 'compile-cache', process.version);
const enabled = !process.env.NODE_DISABLE_COMPILE_CACHE;
// The kinds of run a cache holds the code of (a bit set).
const RAN_NO_COMMAND = 1;
const RAN_A_COMMAND = 2;
// The command this run is for, from oclif's init hook; '' until then, and for anything
// but a command (--help, --version, a mistyped one).
let command = '';

/** Runs lib/<name> once, as require would, and returns its exports. */
function load(name) {
  const filename = join(__dirname, name);
  const cached = require.cache[filename];
  if (cached) return cached.exports;
  const source = readFileSync(filename);
  const what = command === '' ? name : `${name} for ${command}`;
  const file = join(cacheDir, `${name}-${crc32(source).toString(16)}${command === '' ? '' : `-${command.replaceAll(':', '.')}`}.v8`);
  const cache = enabled ? readCache(what, file) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`, {
    filename,
    cachedData: cache?.data,
    // The AWS SDK imports node:http and node:async_hooks with import().
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const usable = cache !== undefined && !script.cachedDataRejected;
  debug('%s: %s', what, cache === undefined ? 'no cache' : usable ? 'cache accepted' : 'cache rejected');
  if (enabled) {
    process.once('exit', () => {
      // Known only now: whether this run loaded the commands.
      const kind = require.cache[join(__dirname, 'cli.js')] === undefined ? RAN_NO_COMMAND : RAN_A_COMMAND;
      if (!usable) writeCache(what, file, script, kind);
      else if ((cache.kinds & kind) === 0) writeCache(what, file, script, cache.kinds | kind);
    });
  }
  // In require.cache, so that lib/cli.js's require('./oclif.js') is this same oclif.
  const mod = new Module(filename, module);
  mod.filename = filename;
  require.cache[filename] = mod;
  try {
    script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(filename), mod, filename, __dirname);
  } catch (error) {
    delete require.cache[filename];
    throw error;
  }
  mod.loaded = true;
  return mod.exports;
}

// A cache file: the CRC-32 of the rest, the kinds of run (one byte), the V8 cache. V8
// checks a cache's version and flags, not its bytes (Node's own cache adds a checksum
// for that); a damaged file counts as none.
function readCache(what, file) {
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined; // none yet: made at exit
  }
  if (bytes.length > 5 && bytes.readUInt32LE(0) === crc32(bytes.subarray(4))) return { kinds: bytes[4], data: bytes.subarray(5) };
  debug('%s: cache damaged', what);
  return undefined;
}

// At exit, with every function the run compiled. Written aside and renamed, so that a
// run starting meanwhile reads the old cache or the new one, never half of one.
function writeCache(what, file, script, kinds) {
  const partial = `${file}.${process.pid}`;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    accessSync(cacheDir, fsConstants.W_OK); // before making the cache, where /var is read-only
    const rest = Buffer.concat([Buffer.from([kinds]), script.createCachedData()]);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(crc32(rest));
    writeFileSync(partial, Buffer.concat([header, rest]), { mode: 0o600 });
    renameSync(partial, file);
    removeOtherBuilds(file);
    debug('%s: cache written', what);
  } catch (error) {
    // A speed-up only: a read-only or full disk leaves the next run to compile again.
    debug('%s: cache not written: %s', what, error.message);
    rmSync(partial, { force: true });
  }
}

// The caches of the same bundle from another build (an earlier release) are never read
// again: without this, every upgrade would leave its megabytes behind.
function removeOtherBuilds(file) {
  const [, name, crc] = /^(.+?\.js)-([0-9a-f]+)[-.]/.exec(basename(file)) ?? [];
  for (const entry of readdirSync(cacheDir)) {
    const [, otherName, otherCrc] = /^(.+?\.js)-([0-9a-f]+)[-.]/.exec(entry) ?? [];
    if (otherName === name && otherCrc !== crc) rmSync(join(cacheDir, entry), { force: true });
  }
}

/**
 * oclif's init hook, first in the release's package.json: notes the command about to run,
 * before oclif loads lib/cli.js for it. One cache for all commands would hold what the
 * first run compiled (`config init`, say) and leave every later `backup` to compile the
 * AWS SDK again; a mistyped command shares the cache of none.
 */
async function init({ id, config }) {
  if (id !== undefined && config.findCommand(id) !== undefined) command = id;
}

module.exports = load;
module.exports.init = init;
