// Loads a bundle of the release (lib/oclif.js, lib/cli.js) as a CommonJS module, with a
// V8 code cache made at the end of the run rather than at compile time.
//
// Node's compile cache (module.enableCompileCache) serializes a module's code as soon as
// it is compiled, before it runs. V8 compiles a function only when it is first called,
// so for a bundle that cache holds little more than the top level, and every run
// compiled again all the oclif and command code it used. vm.Script's createCachedData,
// called at exit, takes every function compiled so far (the Node documentation's example
// for it), and the next run starts with them compiled.
//
// The cache lives where Node's would: only the running user writes there, never a shared
// /tmp, since root runs the code it holds. It is named by the bundle's CRC-32, as Node's
// is (V8 itself checks a cache against its source's length only), in a directory per
// Node version. V8 rejects a cache made by another V8 or with other flags; it is made
// again then. Where it cannot be written (the service's read-only /var), the bundle runs
// without it. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node's;
// NODE_DEBUG=btrfs-to-s3-cache says what it did.
'use strict';
const Module = require('node:module');
const { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { homedir } = require('node:os');
const { join } = require('node:path');
const { debuglog } = require('node:util');
const { Script, constants } = require('node:vm');
const { crc32 } = require('node:zlib');

const debug = debuglog('btrfs-to-s3-cache');
const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
const cacheDir = join(process.getuid() === 0 ? '/var/cache/btrfs-to-s3' : join(cacheHome, 'btrfs-to-s3'), 'compile-cache', process.version);
const enabled = !process.env.NODE_DISABLE_COMPILE_CACHE;

/** Runs lib/<name> once, as require would, and returns its exports. */
function load(name) {
  const filename = join(__dirname, name);
  const cached = require.cache[filename];
  if (cached) return cached.exports;
  const source = readFileSync(filename);
  const cacheFile = join(cacheDir, `${name}-${crc32(source).toString(16)}.v8`);
  const cachedData = enabled ? readCache(name, cacheFile) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`, {
    filename,
    cachedData,
    // The AWS SDK imports node:http and node:async_hooks with import().
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  debug('%s: %s', name, cachedData === undefined ? 'no cache' : script.cachedDataRejected ? 'cache rejected' : 'cache accepted');
  if (enabled && (cachedData === undefined || script.cachedDataRejected)) process.once('exit', () => writeCache(cacheFile, script));
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

// V8 checks a code cache's version and flags, not its bytes (Node's own cache adds a
// checksum for that): a cache file is its CRC-32, then the cache. A damaged one counts as
// none.
function readCache(name, file) {
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined; // none yet: made at exit
  }
  const data = bytes.subarray(4);
  if (bytes.length > 4 && bytes.readUInt32LE(0) === crc32(data)) return data;
  debug('%s: cache damaged', name);
  return undefined;
}

// At exit, with every function the run compiled. Written aside and renamed, so that a
// run starting meanwhile reads the old cache or the new one, never half of one.
function writeCache(file, script) {
  const partial = `${file}.${process.pid}`;
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const data = script.createCachedData();
    const header = Buffer.alloc(4);
    header.writeUInt32LE(crc32(data));
    writeFileSync(partial, Buffer.concat([header, data]), { mode: 0o600 });
    renameSync(partial, file);
    debug('%s: cache written', file);
  } catch (error) {
    // A speed-up only: a read-only or full disk leaves the next run to compile again.
    debug('%s: cache not written: %s', file, error.message);
    rmSync(partial, { force: true });
  }
}

module.exports = load;
