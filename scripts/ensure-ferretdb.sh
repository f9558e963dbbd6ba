#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (SQLite backend, no cgo) once and caches the binary.
# Prints the binary's path. The module zip lacks build/version/version.txt
# (FerretDB issue 2982), so we copy the module and write that file ourselves.
set -euo pipefail
VERSION="v1.24.2"
CACHE_DIR="${FERRETDB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/support-gateway}"
BIN="$CACHE_DIR/ferretdb-$VERSION"
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "ensure-ferretdb: Go is required to build FerretDB (or set MONGODB_URI)" >&2; exit 1; }
mkdir -p "$CACHE_DIR"
SRC_DIR="$(go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK"; rm -rf "$WORK"' EXIT
cp -r "$SRC_DIR/." "$WORK/"
chmod -R u+w "$WORK"
echo "$VERSION" > "$WORK/build/version/version.txt"
(cd "$WORK" && CGO_ENABLED=0 go build -buildvcs=false -o "$BIN.tmp" ./cmd/ferretdb) >&2
mv "$BIN.tmp" "$BIN"
echo "$BIN"
