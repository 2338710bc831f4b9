#!/usr/bin/env bash
# Builds the pinned Helm 3 client that test/chart renders the chart with, or reuses a cached one.
#
#   test/chart/build-helm.sh            build if missing, print the binary path on the last line
#   test/chart/build-helm.sh --force    rebuild even if a cached binary exists
#   test/chart/build-helm.sh --print    print the path the binary has (or would have), build nothing
#
# Debian ships no helm package, so the real client is compiled from its Go module
# (helm.sh/helm/v3, command cmd/helm) at an exact release. The binary lives outside the work tree:
#   ${EGRESS_ADVISOR_CACHE:-$HOME/.cache/egress-advisor}/helm/<version>/helm
set -euo pipefail

# The one place the version is written. The module proxy serves released versions only (no branch
# names), so this must be an exact tag listed by `go list -m -versions helm.sh/helm/v3`.
HELM_VERSION='v3.22.0'
helm_module='helm.sh/helm/v3'

fail() {
  echo "build-helm.sh: error: $*" >&2
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

cache_root="${EGRESS_ADVISOR_CACHE:-${HOME:?HOME is not set}/.cache/egress-advisor}"
out_dir="$cache_root/helm/$HELM_VERSION"
binary="$out_dir/helm"

# A binary counts as current when it runs and reports the pinned version (a half-written or
# foreign file does not).
is_current() {
  [[ -x "$binary" ]] && [[ "$("$binary" version --template '{{.Version}}' 2>/dev/null || true)" == "$HELM_VERSION" ]]
}

if [[ "$mode" == print ]]; then
  echo "$binary"
  exit 0
fi

if [[ "$mode" == build ]] && is_current; then
  echo "Helm $HELM_VERSION: reusing cached binary" >&2
  echo "$binary"
  exit 0
fi

command -v go >/dev/null 2>&1 || fail "the Go toolchain is not on PATH (expected Go >= 1.26, e.g. /usr/local/go/bin)"
mkdir -p "$out_dir" || fail "cannot create cache folder $out_dir"

# Concurrent callers wait for one build; the binary is published by an atomic rename.
exec 9>"$out_dir/.build.lock"
if ! flock -n 9; then
  echo "Helm $HELM_VERSION: another build is running, waiting for it..." >&2
  flock 9
fi
if [[ "$mode" == build ]] && is_current; then
  echo "Helm $HELM_VERSION: built by a concurrent run, reusing it" >&2
  echo "$binary"
  exit 0
fi

# Helm's release build also stamps the Kubernetes version that `helm template` assumes by default
# (.Capabilities.KubeVersion), derived from the client-go it is built with; do the same.
helm_gomod="$(cd / && GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=local go mod download -json "$helm_module@$HELM_VERSION" |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')" ||
  fail "cannot download $helm_module@$HELM_VERSION from the Go module proxy"
client_go="$(awk '$1 == "k8s.io/client-go" && $2 ~ /^v0\./ { print $2; exit }' "$helm_gomod")"
[[ -n "$client_go" ]] || fail "no k8s.io/client-go requirement in $helm_gomod"
kube_minor="$(echo "$client_go" | cut -d. -f2)"

gobin="$(mktemp -d "$out_dir/.gobin.XXXXXX")"
trap 'rm -rf "$gobin"' EXIT

echo "Helm $HELM_VERSION: building $helm_module/cmd/helm (a cold build takes a few minutes)..." >&2
start=$(date +%s)

# `go install module@version` builds outside any local module, so nothing in this checkout can
# change the result. GOWORK=off and GOTOOLCHAIN=local keep an unrelated go.work or a toolchain
# download out of it; CGO is off so the binary needs no C libraries. The -X flag stamps the version
# the way Helm's own release build does, so `helm version` reports the tag instead of "unreleased".
kube_ldflags() {
  local pkg
  for pkg in pkg/chartutil pkg/lint/rules; do
    printf -- '-X %s/%s.k8sVersionMajor=1 -X %s/%s.k8sVersionMinor=%s ' "$helm_module" "$pkg" "$helm_module" "$pkg" "$kube_minor"
  done
}

if ! (
  cd "$gobin" &&
    GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$gobin" \
      go install -trimpath \
      -ldflags "-s -w -X $helm_module/internal/version.version=$HELM_VERSION -X $helm_module/internal/version.gitTreeState=clean $(kube_ldflags)" \
      "$helm_module/cmd/helm@$HELM_VERSION"
); then
  fail "go install of $helm_module/cmd/helm@$HELM_VERSION failed (see the output above). Check that the Go module proxy is reachable and still serves $HELM_VERSION."
fi

reported="$("$gobin/helm" version --template '{{.Version}}' 2>/dev/null || true)"
[[ "$reported" == "$HELM_VERSION" ]] || fail "the built helm reports version '$reported', expected $HELM_VERSION"

mv -f "$gobin/helm" "$binary"
echo "Helm $HELM_VERSION: built in $(($(date +%s) - start)) s" >&2
echo "$binary"
