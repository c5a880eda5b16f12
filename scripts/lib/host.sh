# Shared by the scripts that drive a real host over HTTP (the API fuzzer, the generated-client
# round trip): the Python venv, a host on a free loopback port with a scratch data directory,
# and small helpers around curl. Source it from the repository root in a script running with
# `set -euo pipefail`; it changes no shell options itself.

venv=target/py-venv
py_requirements=tests/client/requirements.txt

# Makes target/py-venv hold the pinned Python tools (schemathesis, openapi-python-client).
# A venv only works where it was made: a moved or half-made one is made again.
ensure_venv() {
    if ! "$venv/bin/pip" --version >/dev/null 2>&1; then
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
    # Every pin installed at its exact version, or pip installs what differs.
    if ! "$venv/bin/python" - "$py_requirements" <<'EOF'; then
import importlib.metadata as metadata
import sys

for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, version = line.split("==")
    try:
        if metadata.version(name) != version:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
EOF
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$py_requirements"
    fi
}

# A free loopback TCP port.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `./target/debug/garrison serve` on a free port with the scratch data directory
# `$data` (which must exist), logging to `$data/host.log`, plus any extra arguments. Sets
# `base` (http://127.0.0.1:PORT), `host` (its pid) and an EXIT trap that stops it, ends every
# game it started and removes `$data`. Fails unless the host answers its health check.
start_host() {
    local port
    port=$(free_port)
    base="http://127.0.0.1:$port"
    ./target/debug/garrison serve --data-dir "$data" --listen "127.0.0.1:$port" "$@" \
        >"$data/host.log" 2>&1 &
    host=$!
    trap stop_host EXIT
    local _
    for _ in $(seq 1 120); do
        if curl -sf "$base/api/v1/system/health" >/dev/null; then
            return 0
        fi
        if ! kill -0 "$host" 2>/dev/null; then
            echo "the host exited before answering its health check:" >&2
            tail -n 20 "$data/host.log" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "the host did not answer $base/api/v1/system/health within 60 s:" >&2
    tail -n 20 "$data/host.log" >&2
    exit 1
}

stop_host() {
    kill "$host" 2>/dev/null || true
    wait "$host" 2>/dev/null || true
    # Games started through the API outlive the host by design: end every process working
    # in the scratch data directory.
    local proc
    for proc in /proc/[0-9]*; do
        case "$(readlink "$proc/cwd" 2>/dev/null)" in
            "$data"/*) kill -KILL "${proc#/proc/}" 2>/dev/null || true ;;
        esac
    done
    if [ -n "${KEEP_DATA:-}" ]; then
        echo "data directory kept: $data" >&2
    else
        rm -rf "$data"
    fi
}

# `api METHOD PATH TOKEN [JSON]`: calls $base/api/v1/PATH with the bearer token and prints
# the answer's body; fails (naming the call and showing the answer) unless it is a 2xx.
api() {
    local method=$1 path=$2 token=$3 body=${4:-}
    local args=(-sS -X "$method" "$base/api/v1$path" -H "authorization: Bearer $token"
        -w '\n%{http_code}')
    if [ -n "$body" ]; then
        args+=(-H 'content-type: application/json' -d "$body")
    fi
    local answer status
    answer=$(curl "${args[@]}")
    status=${answer##*$'\n'}
    answer=${answer%$'\n'*}
    if [ "${status:0:1}" != 2 ]; then
        echo "$method /api/v1$path answered $status: $answer" >&2
        return 1
    fi
    printf '%s\n' "$answer"
}

# `json FIELD`: the top-level FIELD of the JSON on standard input.
json() {
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# `sign_in USERNAME PASSWORD`: prints a session token.
sign_in() {
    local body
    body=$(python3 -c 'import json, sys; print(json.dumps({"username": sys.argv[1], "password": sys.argv[2]}))' "$1" "$2")
    curl -sSf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' -d "$body" |
        json token
}
