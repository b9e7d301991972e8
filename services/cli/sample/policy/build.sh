#!/bin/sh
# Recompile the bundled sample policy (needs checkpolicy, Debian package `checkpolicy`).
set -eu
cd "$(dirname "$0")"
checkpolicy -M -c 33 -o policy.33 policy.conf
echo "wrote $(pwd)/policy.33"
