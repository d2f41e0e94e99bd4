// Jest runs test code as CommonJS, and require(esm) works in Jest only under
// --experimental-vm-modules. The few ESM-only dependencies (age-encryption and the
// @noble/@scure libraries under it) are compiled to CommonJS for tests by esbuild,
// which the release build already uses; the built packages load them with Node's
// own require(esm).
const { transformSync } = require('esbuild');

module.exports = {
  process(source, path) {
    const { code, map } = transformSync(source, { format: 'cjs', loader: 'js', sourcemap: 'external', sourcefile: path, target: 'node22' });
    return { code, map };
  },
};
