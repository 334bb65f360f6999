#!/usr/bin/env bash
# Builds the release binary, installs wrk if missing, and runs the harness.
# Usage: bench/run.sh [--rounds 3] [--seconds 5] [--counts 1000,1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
command -v taskset >/dev/null || { apt-get update && apt-get install -y util-linux; }
# One build of the whole workspace with its examples (the bare floor): `-p web`
# alone would resolve features differently and rebuild every dependency.
cargo build --release --locked --workspace --bins --examples
exec python3 bench/bench.py "$@"
