#!/usr/bin/env bash
# Builds the pinned etcd, kube-apiserver and kwok for the Kubernetes suites, or reuses cached ones.
#
#   test/kubernetes/build.sh            build what is missing; print "NAME PATH" per tool
#   test/kubernetes/build.sh --force    rebuild all three
#   test/kubernetes/build.sh --print    print "NAME PATH" per tool, build nothing
#
# Each comes from its wrapper module in tools/ (the version is the one its go.mod requires) through
# test/go-tool.sh, into ${EGRESS_ADVISOR_CACHE:-$HOME/.cache/egress-advisor}/NAME/<version>/NAME.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode=()
case "${1:-}" in
  '') ;;
  --force | --print) mode=("$1") ;;
  -h | --help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "build.sh: error: unknown argument '$1' (expected --force, --print or nothing)" >&2
    exit 2
    ;;
esac

# name, the module whose version keys the cache
tools=(
  'etcd go.etcd.io/etcd/server/v3'
  'kube-apiserver k8s.io/kubernetes'
  'kwok sigs.k8s.io/kwok'
)
for t in "${tools[@]}"; do
  read -r name module <<<"$t"
  ldflags='-s -w'
  if [[ "$name" == kube-apiserver ]]; then
    # As Kubernetes's release build stamps it, so /version reports the release instead of v0.0.0.
    v="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$here/tools/$name/go.mod")"
    minor="$(echo "$v" | cut -d. -f2)"
    ldflags+=" -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  fi
  path="$(bash "$here/../go-tool.sh" "$name" "$here/tools/$name" "$module" . "${mode[@]}" -- -ldflags "$ldflags" | tail -n 1)"
  echo "$name $path"
done
