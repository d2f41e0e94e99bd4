#!/usr/bin/env -S node --max-semi-space-size=1
// The btrfs-to-s3 executable from a checkout: oclif reads package.json, loads the
// commands from dist/app.js, and maps errors to exit codes (see docs/exit-codes.md).
// --max-semi-space-size=1: a backup streams gigabytes through short-lived 64 KiB pipe
// buffers; a small young generation collects them promptly, which keeps peak RSS within
// concurrency x part size + 100 MiB at no measured cost in speed (docs/upload.md).
// The release's bin/btrfs-to-s3 launcher passes the same flag.
require('../dist/app.js').run(__dirname);
