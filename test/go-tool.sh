#!/usr/bin/env bash
# Builds one Go command from a wrapper module in this repository, or reuses the cached binary. The
# test suite's real servers (Mattermost, kube-apiserver, etcd, kwok) are all built this way.
#
#   test/go-tool.sh NAME MODULE_DIR REQUIRED_MODULE PACKAGE [--force|--print] [-- GO_BUILD_FLAGS...]
#
#   NAME             the binary's name and its folder in the cache
#   MODULE_DIR       the wrapper module (go.mod, go.sum, main.go)
#   REQUIRED_MODULE  the module go.mod requires whose version keys the cache
#   PACKAGE          what to build (`.` for the wrapper's own main.go, or a package path)
#   --force          rebuild even if a cached binary exists
#   --print          print the path the binary has (or would have), build nothing
#
# The binary lives outside the work tree, so a second test run, another clone or a CI run on the same
# machine reuses it; the last line printed is its path:
#   ${EGRESS_ADVISOR_CACHE:-$HOME/.cache/egress-advisor}/NAME/<version>/NAME
set -euo pipefail

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
}

[[ "${1:-}" == -h || "${1:-}" == --help ]] && {
  usage
  exit 0
}
[[ $# -ge 4 ]] || {
  usage >&2
  exit 2
}
name="$1" module_dir="$2" required="$3" package="$4"
shift 4

fail() {
  echo "go-tool.sh ($name): error: $*" >&2
  exit 1
}

mode=build
go_flags=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) mode=force ;;
    --print) mode=print ;;
    --)
      shift
      go_flags=("$@")
      break
      ;;
    *) fail "unknown argument '$1' (expected --force, --print or -- GO_BUILD_FLAGS)" ;;
  esac
  shift
done

[[ -f "$module_dir/go.mod" ]] || fail "no go.mod in $module_dir"
# go.mod is the single place the version is written; reading it here keeps the cache key and the
# build from ever disagreeing.
version="$(awk -v m="$required" '($1 == m || ($1 == "require" && $2 == m)) { v = ($1 == m) ? $2 : $3; if (v ~ /^v/) { print v; exit } }' "$module_dir/go.mod")"
[[ -n "$version" ]] || fail "no '$required <version>' requirement found in $module_dir/go.mod"

cache_root="${EGRESS_ADVISOR_CACHE:-${HOME:?HOME is not set}/.cache/egress-advisor}"
out_dir="$cache_root/$name/$version"
binary="$out_dir/$name"
# The folder is keyed by version alone, but a changed replace line, go.sum, main.go or build flag
# changes what gets built; a stamp of all of them next to the binary makes such a change rebuild.
stamp="$out_dir/inputs.sha256"
inputs="$({ cat "$module_dir"/go.mod "$module_dir"/go.sum "$module_dir"/*.go 2>/dev/null; printf '%s\n' "$package" "${go_flags[@]}"; } | sha256sum | cut -d' ' -f1)"

is_current() {
  [[ -x "$binary" && -f "$stamp" && "$(cat "$stamp")" == "$inputs" ]]
}

if [[ "$mode" == print ]]; then
  echo "$binary"
  exit 0
fi

if [[ "$mode" == build ]] && is_current; then
  echo "$name $version: reusing cached binary" >&2
  echo "$binary"
  exit 0
fi
if [[ "$mode" == build && -x "$binary" ]]; then
  echo "$name $version: its wrapper module changed since the cached binary was built, rebuilding" >&2
fi

command -v go >/dev/null 2>&1 || fail "the Go toolchain is not on PATH (expected Go >= 1.26, e.g. /usr/local/go/bin)"
mkdir -p "$out_dir" || fail "cannot create cache folder $out_dir"

# Two suites starting at once must not both spend minutes compiling the same thing, nor see a
# half-written binary: the build holds a lock and publishes the file with an atomic rename.
exec 9>"$out_dir/.build.lock"
if ! flock -n 9; then
  echo "$name $version: another build is running, waiting for it..." >&2
  flock 9
fi
if [[ "$mode" == build ]] && is_current; then
  echo "$name $version: built by a concurrent run, reusing it" >&2
  echo "$binary"
  exit 0
fi

tmp="$out_dir/.$name.$$.tmp"
trap 'rm -f "$tmp"' EXIT

echo "$name $version: building $package in $module_dir (a cold build can take minutes)..." >&2
start=$(date +%s)

# -mod=mod lets the build complete go.sum on a fresh checkout; GOWORK=off and GOTOOLCHAIN=local
# stop an unrelated go.work or a toolchain download from changing the result; CGO is off so the
# binary needs no C libraries.
if ! (
  cd "$module_dir" &&
    GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 \
      go build -trimpath "${go_flags[@]}" -o "$tmp" "$package"
); then
  fail "go build of $package ($required $version) failed (see the output above). Check that the Go module proxy is reachable and that $module_dir/go.mod still builds."
fi

mv -f "$tmp" "$binary"
echo "$inputs" >"$stamp"
echo "$name $version: built in $(($(date +%s) - start)) s" >&2
echo "$binary"
