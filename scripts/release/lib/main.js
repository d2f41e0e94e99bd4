// The entry bin/btrfs-to-s3 starts: oclif (lib/oclif.js), which reads the commands from
// oclif.manifest.json and loads them (lib/commands.js) only to run one.
'use strict';
require('./load.js')('oclif.js').execute({ dir: __dirname });
