#!/usr/bin/env -S node --max-semi-space-size=1
// The btrfs-to-s3 executable from a checkout: oclif reads package.json, loads the
// commands from dist/app.js, and maps errors to exit codes (see docs/exit-codes.md).
// --max-semi-space-size=1: a small young generation keeps peak RSS within
// concurrency x part size + 100 MiB (with the part pool full, about 24 MiB less than
// V8's default) at no measured cost in speed (docs/upload.md, "Measured memory").
// The release's bin/btrfs-to-s3 launcher passes the same flag.
require('../dist/app.js').run(__dirname);
