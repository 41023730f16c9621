#!/usr/bin/env bash
# Start the servers the tests need on loopback ports, run the given command, and stop them at the end.
# The local DynamoDB servers (moto_server, dynalite) are started here once the DynamoDB store exists.
set -euo pipefail
cd "$(dirname "$0")/.."
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
"$@"
