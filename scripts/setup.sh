#!/usr/bin/env bash
# Set up a fresh machine (Python 3.11, pip, Node.js, Debian's apt) for serving or testing.
#   scripts/setup.sh serve   the service: virtualenv, Python packages, the query UI's assets
#   scripts/setup.sh test    the same plus test tools: Debian's chromium, the oxigraph server, Comunica
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-serve}"
log() { printf 'setup: %s\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
extras=""
[ "$mode" = test ] && extras="[test]"
stamp=".venv/.installed-${mode}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing Python packages ($mode)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi

if [ -f package.json ]; then
  if ! command -v npm >/dev/null; then
    log "npm is missing: install Node.js (apt-get install nodejs npm)"; exit 1
  fi
  if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
    log "installing Node packages ($mode)"
    if [ "$mode" = test ]; then npm install --no-audit --no-fund --loglevel=error
    else npm install --omit=dev --no-audit --no-fund --loglevel=error; fi
    touch node_modules
  fi
fi

if [ "$mode" = test ] && ! command -v chromium >/dev/null; then
  log "installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
