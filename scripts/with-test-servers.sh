#!/usr/bin/env bash
# Start the servers the tests need on loopback ports, run the given command, and stop them at the end.
# moto_server (DynamoDB + S3, in memory) and dynalite (DynamoDB on LevelDB, from `make setup-test`'s
# project-local npm install) get free ports; their endpoints go to the command as
# LOUPE_TEST_MOTO_ENDPOINT and LOUPE_TEST_DYNALITE_ENDPOINT. A Dask scheduler and two workers (loopback, free
# ports, workers on moto's endpoint like a team's workers on its AWS account) go to it as LOUPE_TEST_DASK_SCHEDULER.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
pids=()
workdir=$(mktemp -d)
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT

free_port() { "$ROOT/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ready() {  # name url pid: any HTTP answer means the server listens
  local name=$1 url=$2 pid=$3
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { echo "$name exited early:"; cat "$workdir/$name.log"; exit 1; }
    if "$ROOT/.venv/bin/python" -c "import urllib.request,sys
try: urllib.request.urlopen('$url', timeout=1)
except urllib.error.HTTPError: pass
except OSError: sys.exit(1)" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$name did not start within 30 s:"; cat "$workdir/$name.log"; exit 1
}

MOTO="$ROOT/.venv/bin/moto_server"  # installed with moto[server]; run through scripts/moto_server_serial.py
if [ -x "$MOTO" ]; then
  port=$(free_port)
  (cd "$workdir"; exec "$ROOT/.venv/bin/python" "$ROOT/scripts/moto_server_serial.py" -H 127.0.0.1 -p "$port") >"$workdir/moto.log" 2>&1 &
  pids+=($!)
  wait_ready moto "http://127.0.0.1:$port/moto-api/" "$!"
  export LOUPE_TEST_MOTO_ENDPOINT="http://127.0.0.1:$port"
else
  echo "moto_server not installed (make setup-test): DynamoDB tests on moto are skipped" >&2
fi

DYNALITE="$ROOT/.cache/dynalite/node_modules/.bin/dynalite"
if [ -x "$DYNALITE" ] && command -v node >/dev/null; then
  port=$(free_port)
  mkdir -p "$workdir/dynalite-data"
  (cd "$workdir"; exec node "$ROOT/scripts/dynalite_server.js" "$ROOT/.cache/dynalite" --host 127.0.0.1 --port "$port" --path "$workdir/dynalite-data" --createTableMs 0 --deleteTableMs 0 --updateTableMs 0) >"$workdir/dynalite.log" 2>&1 &
  pids+=($!)
  wait_ready dynalite "http://127.0.0.1:$port/" "$!"
  export LOUPE_TEST_DYNALITE_ENDPOINT="http://127.0.0.1:$port"
else
  echo "dynalite not installed (make setup-test): DynamoDB tests on dynalite are skipped" >&2
fi

OIDC="$ROOT/.cache/oidc-provider/node_modules/oidc-provider"
if [ -d "$OIDC" ] && command -v node >/dev/null; then
  port=$(free_port)
  node "$ROOT/scripts/oidc-provider.mjs" "$port" >"$workdir/oidc.log" 2>&1 &
  pids+=($!)
  wait_ready oidc "http://127.0.0.1:$port/.well-known/openid-configuration" "$!"
  export LOUPE_TEST_OIDC_ISSUER="http://127.0.0.1:$port"
else
  echo "oidc-provider not installed (make setup-test): the sign-in browser tests start their own or fail" >&2
fi

DASK="$ROOT/.venv/bin/dask"  # installed with distributed (requirements.txt)
if [ -x "$DASK" ] && [ -n "${LOUPE_TEST_MOTO_ENDPOINT:-}" ]; then
  port=$(free_port)
  # a task is retried once after its worker dies, and waits on the scheduler until a thread is free (core/cluster.py);
  # the scheduler unpickles task graphs, so it imports Loupe too (PYTHONPATH), as on a team cluster
  (cd "$workdir"; PYTHONPATH="$ROOT" DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1 DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION=1.0 exec "$DASK" scheduler --host 127.0.0.1 --port "$port" \
    --no-dashboard --no-show) >"$workdir/dask-scheduler.log" 2>&1 &
  pids+=($!)
  scheduler="tcp://127.0.0.1:$port"
  for n in 1 2; do
    (cd "$workdir"; PYTHONPATH="$ROOT" LOUPE_DATA_DIR="$workdir/dask-data" OMP_WAIT_POLICY=PASSIVE LOUPE_MODEL_THREADS=1 AWS_ENDPOINT_URL="$LOUPE_TEST_MOTO_ENDPOINT" \
      AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
      AWS_EC2_METADATA_DISABLED=true exec "$DASK" worker "$scheduler" --name "test-worker-$n" --nthreads 1 \
      --memory-limit 2GiB --host 127.0.0.1 --no-dashboard --local-directory "$workdir/dask-$n") \
      >"$workdir/dask-worker-$n.log" 2>&1 &
    pids+=($!)
  done
  if ! "$ROOT/.venv/bin/python" -c "import sys
from distributed import Client
with Client('$scheduler', timeout='30s') as c: c.wait_for_workers(2, timeout=60)" >"$workdir/dask-wait.log" 2>&1; then
    echo "the test Dask cluster did not start:"; cat "$workdir"/dask-*.log; exit 1
  fi
  export LOUPE_TEST_DASK_SCHEDULER="$scheduler"
else
  echo "dask or moto_server not installed (make setup-test): the cluster tests are skipped" >&2
fi

"$@"
