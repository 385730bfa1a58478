#!/usr/bin/env bash
# Makes Docker Compose v2 or later available to the compose file's test
# (test/unit/compose-file.test.ts), which finds it as this script does. When none is installed, it
# builds Docker's own docker/compose, pinned, from its Go module into .tools/bin/docker-compose
# (about a minute the first time; needs Go 1.26.8 or later and the Go module proxy). .ci/run runs
# it. Idempotent: a second run is instant.
set -euo pipefail
VERSION=v5.6.0
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin/docker-compose"

major() { "$@" version --short 2>/dev/null | sed -n 's/^v\{0,1\}\([0-9][0-9]*\)\..*/\1/p'; }
if [ -x "$bin" ] && [ "$("$bin" version --short 2>/dev/null)" = "${VERSION#v}" ]; then
  exit 0
fi
for existing in "docker compose" docker-compose; do
  # shellcheck disable=SC2086 # "docker compose" is two words
  if [ "$(major $existing)" -ge 2 ] 2>/dev/null; then
    echo "voipbin-agent: using the installed $existing ($($existing version --short))"
    exit 0
  fi
done

go="$(command -v go || true)"
[ -n "$go" ] || [ ! -x /usr/local/go/bin/go ] || go=/usr/local/go/bin/go
if [ -z "$go" ]; then
  echo "voipbin-agent: Go is needed to build Docker Compose $VERSION; or install Docker Compose v2 (docker compose)" >&2
  exit 1
fi
echo "voipbin-agent: building Docker Compose $VERSION into .tools/bin ..."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
"$go" mod init compose-build >/dev/null 2>&1
# `go install` refuses a module whose go.mod has exclude directives, as docker/compose's has: a
# module of our own requires it instead.
if ! out="$("$go" get "github.com/docker/compose/v5/cmd@$VERSION" 2>&1)"; then
  echo "$out" >&2
  exit 1
fi
mkdir -p "$(dirname "$bin")"
"$go" build -trimpath -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$VERSION" \
  -o "$bin.tmp" github.com/docker/compose/v5/cmd
mv "$bin.tmp" "$bin"
echo "voipbin-agent: $("$bin" version) in .tools/bin"
