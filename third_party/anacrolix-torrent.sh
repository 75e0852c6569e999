#!/usr/bin/env bash
# anacrolix-torrent.sh [check]: rebuilds third_party/anacrolix-torrent from
# the upstream module (through the Go module proxy) and anacrolix-torrent.patch,
# keeping only the packages prestaged builds, formatted by gofmt. With "check" it rebuilds into a
# temporary directory and fails if the copy in the tree differs.
set -euo pipefail
cd "$(dirname "$0")"
version=v1.61.0
# The packages prestaged builds, tests included (go list -deps -test ./...).
pkgs=". bencode dialer internal/amortize internal/check internal/ctxrw internal/extracmp
internal/indexed internal/limiter internal/mytimer internal/nestedmaps internal/request-strategy
internal/testutil iplist merkle metainfo mmap-span mse peer_protocol peer_protocol/ut-holepunch
segments smartban storage tracker tracker/http tracker/shared tracker/udp typed-roaring types
types/infohash types/infohash-v2 version webseed webtorrent"

src=$(cd .. && GOFLAGS=-mod=mod go mod download -json "github.com/anacrolix/torrent@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "anacrolix-torrent.sh: no module directory for $version" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/anacrolix-torrent
mkdir -p "$out"
cp "$src/LICENSE" "$src/README.md" "$src/go.mod" "$src/go.sum" "$out/"
# The cgo-only variants (libutp, sqlite piece completion) are left out, and
# the patch makes their pure-Go siblings unconditional: prestaged disables
# uTP and keeps piece completion itself, and a cgo build (a plain `go run`)
# would otherwise spend a minute compiling C nobody calls.
omit="utp_libutp.go storage/sqlite-piece-completion.go"
for p in $pkgs; do
	mkdir -p "$out/$p"
	for f in "$src/$p"/*.go; do
		rel=${f#"$src/"}
		rel=${rel#./}
		case " $omit " in *" $rel "*) continue ;; esac
		case $f in *_test.go) ;; *) cp "$f" "$out/$p/" ;; esac
	done
done
chmod -R u+w "$out"
patch -s -d "$out" -p1 < anacrolix-torrent.patch
# Upstream is not quite gofmt-clean (two files); the tree's own check wants it.
gofmt -w "$out"

if [ "${1:-}" = check ]; then
	diff -r "$out" anacrolix-torrent >&2 || { echo "third_party/anacrolix-torrent differs from upstream $version plus anacrolix-torrent.patch" >&2; exit 1; }
	echo "third_party/anacrolix-torrent: upstream $version plus anacrolix-torrent.patch"
	exit 0
fi
rm -rf anacrolix-torrent
mv "$out" anacrolix-torrent
