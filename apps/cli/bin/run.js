#!/usr/bin/env node
// The btrfs-to-s3 executable: oclif loads the compiled commands from dist/ and the plugins,
// and maps errors to exit codes (see docs/exit-codes.md).
require('@oclif/core').execute({ dir: __dirname });
