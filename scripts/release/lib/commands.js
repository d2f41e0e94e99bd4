// What the release's package.json names as oclif's commands and hooks target: the
// commands and everything they import, lib/cli.js, loaded with its code cache.
'use strict';
module.exports = require('./load.js')('cli.js');
