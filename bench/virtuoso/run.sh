#!/usr/bin/env bash
# Virtuoso 7 (Debian's virtuoso-opensource) as the remote store: install, start on loopback,
# bulk-load the generated data, run the query mix against `kg serve` in remote mode and against
# Virtuoso directly, then try the write paths (writes.py: `kg build` through the Graph Store
# Protocol, `kg load --graph`, a guarded write through `kg serve`), then stop Virtuoso by its PID.
# Run as root from the project root:
#
#     bench/virtuoso/run.sh [SIZE]        # SIZE: 10k (default), 100k, 1M
#
# Everything lives in a temporary directory (database, ini, logs), removed at the end.
set -euo pipefail
SIZE="${1:-10k}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PY="$ROOT/.venv/bin/python"
WORK="$(mktemp -d /tmp/kg-virtuoso-XXXXXX)"
DBA_PASSWORD="kg-bench-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
VPID=""
cleanup() {
  if [ -n "$VPID" ] && kill -0 "$VPID" 2>/dev/null; then
    kill "$VPID"; for _ in $(seq 1 30); do kill -0 "$VPID" 2>/dev/null || break; sleep 1; done
    kill -9 "$VPID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT TERM

echo "== install (debconf preseeded: no prompt for the DBA password)"
if ! command -v virtuoso-t >/dev/null; then
  for q in dba-password dba-password-again; do
    echo "virtuoso-opensource-7 virtuoso-opensource-7/$q password $DBA_PASSWORD" | debconf-set-selections
  done
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q virtuoso-opensource >"$WORK/apt.log" 2>&1 \
    || { tail -20 "$WORK/apt.log"; exit 1; }
fi
virtuoso-t -? 2>&1 | head -2 || true
ISQL="$(command -v isql-vt || command -v isql)"

echo "== data ($SIZE)"
NQ="$("$PY" - "$SIZE" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, ".")
from bench.generate import ensure, parse_size
path, _ = ensure(parse_size(sys.argv[1]), 1, Path("bench/data"))
print(path.resolve())
PY
)"
mkdir -p "$WORK/load" && cp "$NQ" "$WORK/load/data.nq"

echo "== start Virtuoso on loopback"
read -r SQL_PORT HTTP_PORT KG_PORT < <("$PY" -c '
import socket
ps = []
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ps.append(s)
print(*[s.getsockname()[1] for s in ps])')
INI_SRC="/etc/virtuoso-opensource-7/virtuoso.ini"
# A private ini: database files, ports and the loader's allowed directory in $WORK. ResultSetMaxRows
# (10,000 in the packaged ini) is raised: validation and guarded writes read the whole store with one
# SELECT, and our client refuses an answer Virtuoso cut at that limit (502) rather than check a part.
sed -e "s|^DatabaseFile.*|DatabaseFile = $WORK/virtuoso.db|" \
    -e "s|^ErrorLogFile.*|ErrorLogFile = $WORK/virtuoso.log|" \
    -e "s|^LockFile.*|LockFile = $WORK/virtuoso.lck|" \
    -e "s|^TransactionFile.*|TransactionFile = $WORK/virtuoso.trx|" \
    -e "s|^xa_persistent_file.*|xa_persistent_file = $WORK/virtuoso.pxa|" \
    -e "s|^DatabaseFile.*temp.*||" \
    -e "s|^ServerPort.*1111|ServerPort = 127.0.0.1:$SQL_PORT|" \
    -e "s|^ServerPort.*8890|ServerPort = 127.0.0.1:$HTTP_PORT|" \
    -e "s|^DirsAllowed.*|DirsAllowed = ., $WORK/load, /usr/share/virtuoso-opensource-7/vad|" \
    -e "s|^ResultSetMaxRows.*|ResultSetMaxRows = 10000000|" \
    "$INI_SRC" > "$WORK/virtuoso.ini"
sed -i -e "/^\[TempDatabase\]/,/^\[/ s|^DatabaseFile.*|DatabaseFile = $WORK/virtuoso-temp.db|" \
       -e "/^\[TempDatabase\]/,/^\[/ s|^TransactionFile.*|TransactionFile = $WORK/virtuoso-temp.trx|" "$WORK/virtuoso.ini"
(cd "$WORK" && exec virtuoso-t +foreground +configfile "$WORK/virtuoso.ini" >"$WORK/stdout.log" 2>&1) &
VPID=$!
for _ in $(seq 1 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$HTTP_PORT/sparql?query=ASK%7B%7D" && break
  kill -0 "$VPID" 2>/dev/null || { echo "virtuoso-t exited:"; tail -30 "$WORK/virtuoso.log" "$WORK/stdout.log"; exit 1; }
  sleep 1
done
echo "Virtuoso answers on 127.0.0.1:$HTTP_PORT (pid $VPID)"

echo "== bulk load"
START=$(date +%s.%N)
# A fresh database's dba password is "dba" (the debconf password applies to the packaged instance).
"$ISQL" "$SQL_PORT" dba dba exec="ld_dir('$WORK/load', 'data.nq', 'urn:kg:default'); rdf_loader_run(); checkpoint;" \
  >"$WORK/isql.log" 2>&1 || { cat "$WORK/isql.log"; exit 1; }
END=$(date +%s.%N)
echo "loaded in $(echo "$END - $START" | bc) s"
"$ISQL" "$SQL_PORT" dba dba exec="SELECT ll_state, ll_error FROM DB.DBA.load_list;" | tail -5

# Writes: this private, throwaway instance on loopback lets its anonymous SPARQL user update
# (/sparql) and write through the Graph Store Protocol (/sparql-graph-crud). Never do this on a
# Virtuoso anyone else can reach: there, use an authenticated endpoint instead.
"$ISQL" "$SQL_PORT" dba dba exec='GRANT SPARQL_UPDATE TO "SPARQL";' >>"$WORK/isql.log" 2>&1 \
  || { cat "$WORK/isql.log"; exit 1; }

if [ "${2:-}" = "--hold" ]; then echo "holding: http://127.0.0.1:$HTTP_PORT/sparql"; sleep "${3:-120}"; exit 0; fi
echo "== query mix: kg serve (remote -> Virtuoso) and Virtuoso directly"
KG_REMOTE_QUERY_URL="http://127.0.0.1:$HTTP_PORT/sparql" KG_REMOTE_UNION_PARAM="" \
  "$PY" "$ROOT/bench/virtuoso/mix.py" --virtuoso-port "$HTTP_PORT" --kg-port "$KG_PORT" --size "$SIZE" \
  | tee "$ROOT/bench/results/virtuoso-$SIZE.txt"

echo "== writes: kg build (GSP), kg load --graph, a guarded write through kg serve"
mkdir -p "$WORK/writes"
"$PY" "$ROOT/bench/virtuoso/writes.py" --virtuoso-port "$HTTP_PORT" --kg-port "$KG_PORT" --size "$SIZE" \
  --work "$WORK/writes" | tee "$ROOT/bench/results/virtuoso-writes-$SIZE.txt"
