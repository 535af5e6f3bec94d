#!/usr/bin/env bash
# Set up a fresh machine (Python 3.11, pip, Node.js, Debian's apt) for serving or testing.
#   scripts/setup.sh serve   the service: virtualenv, Python packages, the query UI's assets
#   scripts/setup.sh test    the same plus test tools: Debian's chromium, the oxigraph server,
#                            Comunica and axe-core (npm devDependencies)
# Safe to run again: each step skips what is already there. One line per step; the tools'
# own output goes to .venv/setup.log and is shown only when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-serve}"
case "$mode" in serve|test) ;; *) echo "setup: unknown mode '$mode'; use 'serve' or 'test'" >&2; exit 2;; esac
log_file=".venv/setup.log"

say() { printf 'setup: %s\n' "$*" >&2; }

# run STEP-DESCRIPTION COMMAND...: one line, the command's output in the log, the log's end on failure
run() {
  local what="$1"; shift
  printf 'setup: %s ... ' "$what" >&2
  local started=$SECONDS
  if "$@" >>"$log_file" 2>&1; then
    printf 'done (%ss)\n' "$((SECONDS - started))" >&2
  else
    local status=$?
    printf 'FAILED\n' >&2
    echo "---- last lines of $log_file ----" >&2
    tail -n 30 "$log_file" >&2
    echo "---- setup stopped: '$*' exited with status $status (the whole output is in $log_file)" >&2
    exit "$status"
  fi
}

mkdir -p .venv
: >"$log_file"
if [ ! -x .venv/bin/python ]; then
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    say "Python 3.11 or newer is needed as python3 (found: $(python3 --version 2>&1 || echo none))"; exit 1
  fi
  run "creating the virtualenv .venv" python3 -m venv .venv
fi

# A stamp is fresh when it exists and is newer than the file that says what to install.
fresh() { [ -f "$1" ] && [ ! "$2" -nt "$1" ]; }

# Python packages: the [test] extra for tests (a superset of serve's); redone when pyproject.toml changes.
extras=""
[ "$mode" = test ] && extras="[test]"
stamp=".venv/.installed-${mode}"
if ! fresh "$stamp" pyproject.toml && ! { [ "$mode" = serve ] && fresh .venv/.installed-test pyproject.toml; }; then
  run "upgrading pip" .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip
  run "installing the Python packages ($mode; a minute or two the first time)" \
    .venv/bin/python -m pip install --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi

# Node packages: the query UI's YASGUI always; Comunica and axe-core (devDependencies) for tests.
# What was installed is stamped per mode: serve installs without the devDependencies, and a
# test setup after it must add them (a bare node_modules/ says nothing about which were installed).
if [ -f package.json ]; then
  if ! command -v npm >/dev/null; then
    say "npm is missing: install Node.js 20 or newer (Debian: sudo apt-get install nodejs npm)"; exit 1
  fi
  node_stamp_serve="node_modules/.kg-installed-serve"
  node_stamp_test="node_modules/.kg-installed-test"
  if [ "$mode" = test ]; then wanted="$node_stamp_test"; else wanted="$node_stamp_serve"; fi
  if ! fresh "$wanted" package.json && ! { [ "$mode" = serve ] && fresh "$node_stamp_test" package.json; }; then
    if [ "$mode" = test ]; then
      run "installing the Node packages with the test tools (about a minute)" \
        npm install --no-audit --no-fund --loglevel=error --no-progress
      touch "$node_stamp_test" "$node_stamp_serve"
    else
      run "installing the Node packages of the query UI (about a minute)" \
        npm install --omit=dev --no-audit --no-fund --loglevel=error --no-progress
      rm -f "$node_stamp_test"
      touch "$node_stamp_serve"
    fi
  fi
fi

if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  run "updating Debian's package lists" $SUDO apt-get update -qq
  run "installing Debian's chromium for the browser tests" \
    env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
exit 0
