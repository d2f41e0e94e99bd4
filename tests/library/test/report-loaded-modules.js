// @ts-check
// Preloaded (NODE_OPTIONS=--require) into an example run: at exit, writes every CommonJS
// module the process loaded to $LOADED_MODULES_FILE, so a test can prove what was never loaded.
const { writeFileSync } = require('node:fs');

const file = process.env.LOADED_MODULES_FILE;
if (file === undefined || file === '') throw new Error('report-loaded-modules: LOADED_MODULES_FILE is unset');
process.on('exit', () => writeFileSync(file, JSON.stringify(Object.keys(require.cache))));
