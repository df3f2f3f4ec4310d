#!/usr/bin/env bash
# Serve the app (`make run`): one uvicorn process, or WORKERS processes on the ports PORT,
# PORT+1, … that share the database. Streamlit keeps a browser tab's state (and the files
# its downloads, images and uploads use) in the process holding the tab's websocket, so
# several processes need a proxy in front that keeps each browser on one of them; see
# docs/operations.md, "Several app processes". Usage: serve.sh BIN HOST PORT WORKERS
set -euo pipefail

bin=$1 host=$2 port=$3 workers=$4
sign_in="sign in (demo: admin / admin-demo; README lists the other roles)"
serve=("$bin/uvicorn" serve:app --host "$host" --log-level warning --no-access-log)

if ! [[ "$workers" =~ ^[1-9][0-9]*$ ]]; then
    echo "gcrm: WORKERS must be a whole number of processes, 1 or more (got '$workers')" >&2
    exit 2
fi
if [ "$workers" = 1 ]; then
    echo "gcrm: open http://$host:$port and $sign_in"
    exec "${serve[@]}" --port "$port"
fi

last=$((port + workers - 1))
echo "gcrm: $workers app processes on http://$host:$port … http://$host:$last; $sign_in"
echo "gcrm: put a proxy in front that keeps each browser on one process (docs/operations.md, Several app processes)"
pids=()
stop() {
    trap - EXIT INT TERM
    kill "${pids[@]}" 2>/dev/null || true
    wait
}
trap stop EXIT INT TERM
for ((i = 0; i < workers; i++)); do
    "${serve[@]}" --port $((port + i)) &
    pids+=($!)
done
# When one process ends (a crash, or a port in use), stop the others rather than serve on with fewer.
wait -n
