#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (SQLite backend, no cgo) once and caches the binary. Prints the binary's path.
# Changes to the module source, each checked after it is made:
# 1. The module zip lacks build/version/version.txt (FerretDB issue 2982): the stock binary panics at start.
# 2. Its SQLite backend filters `{ _id: ... }` on `_ferretdb_sjson->'$._id'` but builds the `_id_` index on
#    `_ferretdb_sjson->"_id"`; SQLite uses an expression index only for the identical expression, so every
#    look-up by _id scanned the whole table (50,000 documents: 60 ms a findOne, 0.9 ms with the fix). The patch
#    makes the filter use the index's expression; both select the same field, so results do not change.
# 3. Only a filter that is exactly `{ _id: v }` reached that index; `{ _id: v, status: ... }` and
#    `{ _id: { $in: [...] } }` scanned the table (20,000 documents: 230 ms and 505 ms; 0.7 ms and 6 ms with the
#    patch). ferretdb-patches/id_filter.go narrows every query whose filter names _id values to those rows;
#    FerretDB applies the whole filter to them afterwards, as it always does, so results do not change.
# 4. SQLite lets one writer in at a time, and a writer that finds it busy sleeps 1 to 100 ms before trying
#    again. The patch queues write transactions on a mutex instead (raw inserts, 10 connections, one A/B run:
#    1,294-1,338/s before, 2,121-2,157/s after). Another process writing the same files still meets the handler.
# 5. An update command runs one query and one write transaction per statement, so a bulkWrite of fifty
#    updates by _id cost fifty of each. ferretdb-patches/update_by_ids.go runs such a command (every
#    statement one document by its _id, no multi, no upsert, no _id twice) with one query and one transaction;
#    each statement is still applied with its whole filter. Any other update command takes the stock path.
# 6. ferretdb-patches/parent_watch.go: with SUPPORT_GATEWAY_EXIT_WITH_STDIN=1 the server stops when its stdin
#    closes; the gateway holds the other end of that pipe, so the server dies with the gateway, even after kill -9.
# 7. ferretdb-patches/data_dir_lock.go: with SUPPORT_GATEWAY_LOCK_FILE set, the server takes an exclusive flock
#    on that file before it opens its SQLite files (exit code 75 if another server holds it) and writes its pid,
#    its parent's pid and its port into it; the kernel drops the lock when the server ends, however it ends.
# 8. Updates are not atomic: FerretDB reads the documents, changes them in memory and writes them back by _id, so
#    two updates of one document at once can undo each other. ferretdb-patches/atomic_updates.go makes the read
#    and the write of each update and findAndModify one step per collection (a mutex): atomic between every
#    client of the server, as on MongoDB.
# Progress messages go to stderr prefixed "ensure-ferretdb: " (src/db/embedded-binary.ts shows them as they come);
# a missing Go is one line of its own and exit code 3.
set -euo pipefail
VERSION="v1.24.2"
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE_DIR="${FERRETDB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/support-gateway}"
# The cache key covers this script and the patch files: changing either builds a new binary.
PATCH_ID="$(cat "$0" "$HERE"/ferretdb-patches/* | sha256sum | cut -c1-12)"
BIN="$CACHE_DIR/ferretdb-$VERSION-$PATCH_ID"
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || {
  echo "The embedded database needs Go to build FerretDB once (https://go.dev/dl/), or set MONGODB_URI to use your own MongoDB." >&2
  exit 3
}
mkdir -p "$CACHE_DIR"
# Two first starts at once (the test setup and .ci/run, two gateways) build once: the second waits for the first.
if command -v flock >/dev/null; then
  exec 9>"$CACHE_DIR/build.lock"
  if ! flock -n 9; then
    echo "ensure-ferretdb: another process is building the embedded database; waiting for it" >&2
    flock 9
  fi
  if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
fi
echo "ensure-ferretdb: building the embedded database (FerretDB $VERSION) once; this takes about a minute on first start" >&2
SRC_DIR="$(go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
WORK="$(mktemp -d)"
trap 'chmod -R u+w "$WORK"; rm -rf "$WORK" "$BIN.tmp.$$"' EXIT
cp -r "$SRC_DIR/." "$WORK/"
chmod -R u+w "$WORK"
fail() { echo "ensure-ferretdb: patch $1 did not apply to $2" >&2; exit 1; }

# 1
echo "$VERSION" > "$WORK/build/version/version.txt"

# 2
METADATA="$WORK/internal/backends/sqlite/metadata/metadata.go"
sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$METADATA"
grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$METADATA" || fail 2 "$METADATA"

# 3
COLLECTION="$WORK/internal/backends/sqlite/collection.go"
cp "$HERE/ferretdb-patches/id_filter.go" "$WORK/internal/backends/sqlite/"
perl -0pi -e 's{\t// that logic should exist in one place\n\t// TODO https://github.com/FerretDB/FerretDB/issues/3235\n\tif params.Filter.Len\(\) == 1 \{\n\t\tv, _ := params.Filter.Get\("_id"\)\n\t\tswitch v.\(type\) \{\n\t\tcase string, types.ObjectID:\n\t\t\twhereClause = fmt.Sprintf\(` WHERE %s = \?`, metadata.IDColumn\)\n\t\t\targs = \[\]any\{string\(must.NotFail\(sjson.MarshalSingleValue\(v\)\)\)\}\n\t\t\}\n\t\}\n}{\twhereClause, args = prepareIDWhereClause(params.Filter)\n}' "$COLLECTION"
grep -q 'whereClause, args = prepareIDWhereClause(params.Filter)' "$COLLECTION" || fail 3 "$COLLECTION"

# 4
FSQL="$WORK/internal/util/fsql/db.go"
sed -i \
  -e 's|^\t"log/slog"$|\t"log/slog"\n\t"sync"|' \
  -e 's|^\tBatchSize int$|\tBatchSize int\n\n\t// writeMu lets one write transaction in at a time, instead of SQLite'"'"'s sleeping busy handler.\n\twriteMu sync.Mutex|' \
  -e 's|^func (db \*DB) InTransaction(ctx context.Context, f func(\*Tx) error) (err error) {$|&\n\tdb.writeMu.Lock()\n\tdefer db.writeMu.Unlock()\n|' \
  "$FSQL"
[ "$(grep -c 'writeMu' "$FSQL")" -eq 4 ] || fail 4 "$FSQL"

# 5
UPDATE="$WORK/internal/handler/msg_update.go"
cp "$HERE/ferretdb-patches/update_by_ids.go" "$WORK/internal/handler/"
perl -0pi -e 's~\n\tfor _, u := range params.Updates \{\n~\n\tif c, err := db.Collection(params.Collection); err == nil {\n\t\tif matched, modified, handled, err := h.updateByIDs(ctx, c, params); handled {\n\t\t\treturn matched, modified, types.MakeArray(0), err\n\t\t}\n\t}\n\n\tfor _, u := range params.Updates {\n~' "$UPDATE"
grep -q 'h.updateByIDs(ctx, c, params)' "$UPDATE" || fail 5 "$UPDATE"

# 8
cp "$HERE/ferretdb-patches/atomic_updates.go" "$WORK/internal/handler/"
perl -0pi -e 's~(func \(h \*Handler\) updateDocument\(ctx context.Context, params \*common.UpdateParams\) \(int32, int32, \*types.Array, error\) \{\n)~$1\tdefer lockCollectionForUpdate(params.DB, params.Collection)()\n\n~' "$UPDATE"
grep -q 'defer lockCollectionForUpdate(params.DB, params.Collection)()' "$UPDATE" || fail 8 "$UPDATE"
FAM="$WORK/internal/handler/msg_findandmodify.go"
perl -0pi -e 's~(func \(h \*Handler\) findAndModifyDocument\(ctx context.Context, params \*common.FindAndModifyParams\) \(\*findAndModifyResult, error\) \{\n)~$1\tdefer lockCollectionForUpdate(params.DB, params.Collection)()\n\n~' "$FAM"
grep -q 'defer lockCollectionForUpdate(params.DB, params.Collection)()' "$FAM" || fail 8 "$FAM"

# 6, 7
# Their init() functions run only if they land in the binary's main package.
grep -q '^package main$' "$WORK/cmd/ferretdb/main.go" || fail 6 "$WORK/cmd/ferretdb/main.go"
cp "$HERE/ferretdb-patches/parent_watch.go" "$HERE/ferretdb-patches/data_dir_lock.go" "$WORK/cmd/ferretdb/"

# A temporary name of this run's own (no flock on some systems), renamed into place in one step.
(cd "$WORK" && CGO_ENABLED=0 go build -buildvcs=false -o "$BIN.tmp.$$" ./cmd/ferretdb) >&2
mv "$BIN.tmp.$$" "$BIN"
echo "ensure-ferretdb: built in $SECONDS s, cached at $BIN" >&2
echo "$BIN"
