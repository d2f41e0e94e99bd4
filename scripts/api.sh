#!/usr/bin/env bash
# The public API of each published package, recorded by API Extractor
# (packages/*/api/*.api.md) and rendered as a reference by API Documenter (docs/api/).
#
#   bash scripts/api.sh check    fail if a package's API or its doc comments changed
#                                without updating the reports and docs/api/ (CI runs this)
#   bash scripts/api.sh update   rewrite both after an intended change; commit the diff
#
# Needs built packages (pnpm turbo run build).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
[[ $mode == check || $mode == update ]] || { echo "usage: scripts/api.sh check|update" >&2; exit 2; }

packages=(core btrfs s3-store codec metrics bucket restore backup systemd command)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/models"

status=0
for package in "${packages[@]}"; do
  # Without --local, API Extractor fails when the report in git differs from the code.
  if ! (cd "packages/$package" && pnpm exec api-extractor run $([[ $mode == update ]] && echo --local) >"$work/$package.log" 2>&1); then
    echo "api.sh: the public API of packages/$package changed; review packages/$package/api/ and run 'bash scripts/api.sh update'" >&2
    grep -iE "warning|error" "$work/$package.log" >&2 || cat "$work/$package.log" >&2
    status=1
  fi
  cp "packages/$package"/dist/api/*.api.json "$work/models/"
done
((status == 0)) || exit "$status"

pnpm exec api-documenter markdown --input-folder "$work/models" --output-folder "$work/docs" >"$work/documenter.log" 2>&1 || { cat "$work/documenter.log" >&2; exit 1; }
if [[ $mode == update ]]; then
  rm -rf docs/api && cp -r "$work/docs" docs/api
  echo "api.sh: API reports and docs/api/ updated" >&2
elif ! diff -r -q docs/api "$work/docs" >&2; then
  echo "api.sh: docs/api/ is stale (doc comments or API changed); run 'bash scripts/api.sh update'" >&2
  exit 1
fi
