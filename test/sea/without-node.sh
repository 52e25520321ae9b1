#!/bin/sh
# SHOAL_BIN for the e2e suite's `binary` project (vitest.config.ts): runs the
# executable named by SHOAL_EXE with no Node.js reachable (PATH names a
# directory that does not exist, NODE_OPTIONS and NODE_PATH are dropped), so a
# test passes only if dist/shoal really needs nothing from the machine.
# `exec` keeps the process id, so signals from a test reach shoal itself.
if [ -z "$SHOAL_EXE" ]; then
  echo "without-node.sh: SHOAL_EXE is not set" >&2
  exit 1
fi
unset NODE_OPTIONS NODE_PATH
PATH=/nonexistent/shoal-test-no-node
export PATH
exec "$SHOAL_EXE" "$@"
