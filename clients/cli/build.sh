#!/bin/sh
# Builds the native `codeloop search` client (codeloop-client.c) into dist/clients/cli/ when a C compiler is
# present ($CC, else cc). Without one, or when it cannot build the client (no C library headers), it says so and
# succeeds: bin/codeloop then runs every command in Node. (CI installs gcc; its tests fail there without the client.)
set -u
cd "$(dirname "$0")/../.."
compiler=${CC:-cc}
out=dist/clients/cli/codeloop-client
if ! command -v "$compiler" >/dev/null 2>&1; then
  rm -f "$out" # an earlier build's client must not answer for this build's daemon
  echo "codeloop: no C compiler ($compiler): the native search client is not built; codeloop runs every command in Node"
  exit 0
fi
mkdir -p dist/clients/cli
# The build id npm run build wrote (server/scripts/write-build-info.ts): the client tells the daemon which build it is.
build_id=$(sed -n 's/.*"buildId":"\([0-9a-f]*\)".*/\1/p' dist/server/build-info.json 2>/dev/null)
if ! "$compiler" -std=c99 -O2 -Wall -Wextra -Werror -DCODELOOP_BUILD_ID="\"$build_id\"" -o "$out.tmp" clients/cli/codeloop-client.c; then
  rm -f "$out.tmp" "$out"
  echo "codeloop: $compiler could not build the native search client (see above); codeloop runs every command in Node"
  exit 0
fi
mv "$out.tmp" "$out"
