#!/usr/bin/env bash
# Set up, build the store if needed, and serve it on http://127.0.0.1:8000/ (flags go to `kg serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh serve
exec .venv/bin/kg serve "$@"
