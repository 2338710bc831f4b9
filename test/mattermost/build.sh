#!/usr/bin/env bash
# Builds the pinned Mattermost server binary for the integration suite, or reuses a cached one.
#
#   test/mattermost/build.sh            build if missing, print the binary path on the last line
#   test/mattermost/build.sh --force    rebuild even if a cached binary exists
#   test/mattermost/build.sh --print    print the path the binary has (or would have), build nothing
#
# The binary lives outside the work tree, keyed by the pinned pseudo-version, so a second test run,
# another clone of the project or a CI run on the same machine reuses it:
#   ${EGRESS_ADVISOR_CACHE:-$HOME/.cache/egress-advisor}/mattermost/<pseudo-version>/mattermost
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
server_module='github.com/mattermost/mattermost/server/v8'

fail() {
  echo "build.sh: error: $*" >&2
  exit 1
}

mode=build
case "${1:-}" in
  '') ;;
  --force) mode=force ;;
  --print) mode=print ;;
  -h | --help)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) fail "unknown argument '$1' (expected --force, --print or nothing)" ;;
esac

# go.mod is the single place the version is written; reading it here keeps the cache key and the
# build from ever disagreeing.
version="$(awk -v m="$server_module" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$here/go.mod")"
[[ -n "$version" ]] || fail "no '$server_module <version>' requirement found in $here/go.mod"

cache_root="${EGRESS_ADVISOR_CACHE:-${HOME:?HOME is not set}/.cache/egress-advisor}"
out_dir="$cache_root/mattermost/$version"
binary="$out_dir/mattermost"
# The folder is keyed by version alone, but a changed replace line or go.sum changes what gets
# built; a stamp of both files next to the binary makes such a change rebuild instead of reuse.
stamp="$out_dir/inputs.sha256"
inputs="$(cat "$here/go.mod" "$here/go.sum" 2>/dev/null | sha256sum | cut -d' ' -f1)"

is_current() {
  [[ -x "$binary" && -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]
}

if [[ "$mode" == print ]]; then
  echo "$binary"
  exit 0
fi

if [[ "$mode" == build ]] && is_current; then
  echo "Mattermost $version: reusing cached binary"
  echo "$binary"
  exit 0
fi
if [[ "$mode" == build && -x "$binary" ]]; then
  echo "Mattermost $version: go.mod or go.sum changed since the cached binary was built, rebuilding" >&2
fi

command -v go >/dev/null 2>&1 || fail "the Go toolchain is not on PATH (expected Go >= 1.24, e.g. /usr/local/go/bin)"

mkdir -p "$out_dir" || fail "cannot create cache folder $out_dir"

# Two suites starting at once must not both spend ten minutes compiling the same thing, nor see a
# half-written binary: the build holds a lock and publishes the file with an atomic rename.
exec 9>"$out_dir/.build.lock"
if ! flock -n 9; then
  echo "Mattermost $version: another build is running, waiting for it..." >&2
  flock 9
fi
if [[ "$mode" == build ]] && is_current; then
  echo "Mattermost $version: built by a concurrent run, reusing it"
  echo "$binary"
  exit 0
fi

commit="${version##*-}"
tmp="$out_dir/.mattermost.$$.tmp"
trap 'rm -f "$tmp"' EXIT

echo "Mattermost $version: building $server_module/cmd/mattermost (cold builds take several minutes)..." >&2
start=$(date +%s)

# -mod=mod lets the build complete go.sum on a fresh checkout; GOWORK=off and GOTOOLCHAIN=local
# stop an unrelated go.work or a toolchain download (there is no network for one) from changing the
# result; CGO is off so the binary needs no C libraries.
if ! (
  cd "$here" &&
    GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 \
      go build -trimpath \
      -ldflags "-X github.com/mattermost/mattermost/server/public/model.BuildNumber=egress-advisor-test -X github.com/mattermost/mattermost/server/public/model.BuildHash=$commit" \
      -o "$tmp" "$server_module/cmd/mattermost"
); then
  fail "go build of $server_module@$version failed (see the output above). Check that the Go module proxy is reachable and that $here/go.mod still lists the server's replace/exclude lines."
fi

mv -f "$tmp" "$binary"
echo "$inputs" >"$stamp"
echo "Mattermost $version: built in $(($(date +%s) - start)) s" >&2
echo "$binary"
