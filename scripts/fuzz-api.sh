#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis against its own OpenAPI document: a real host on a
# loopback port with a scratch data directory, signed in as the first administrator, with
# one server to act on. Fails on any 5xx answer. Installs schemathesis into a venv under
# target/ on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=target/py-venv
# A venv only works where it was made: a moved or half-made one is made again.
if ! "$venv/bin/st" --version >/dev/null 2>&1; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet --locked -p garrison
data=$(mktemp -d)
# A drop-in game with missions and mods (a neutral test fixture, built with the host), so the
# content endpoints are fuzzed against real files rather than only refusing.
mkdir -p "$data/adapters" "$data/runtimes/fixture-content/maps" \
    "$data/runtimes/fixture-content/addons/+pack"
cp target/adapters-wasm/wasm32-wasip2/release/garrison_fixture_content.wasm "$data/adapters/"
printf 'mission\n' >"$data/runtimes/fixture-content/maps/first.dat"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
./target/debug/garrison serve --data-dir "$data" --listen "127.0.0.1:$port" >"$data/host.log" 2>&1 &
host=$!
cleanup() {
    kill "$host" 2>/dev/null || true
    wait "$host" 2>/dev/null || true
    # Games the fuzzer started outlive the host by design: end every process working in
    # the scratch data directory.
    for proc in /proc/[0-9]*; do
        case "$(readlink "$proc/cwd" 2>/dev/null)" in
            "$data"/*) kill -KILL "${proc#/proc/}" 2>/dev/null || true ;;
        esac
    done
    rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
    curl -sf "$base/api/v1/system/health" >/dev/null && break
    sleep 0.5
done
password=$(cat "$data/initial-admin-password")
token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
# Something for the server endpoints to find: server 1 has missions and mods, server 2 is a
# plain process.
curl -sf -X POST "$base/api/v1/servers" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d '{"name":"fuzzed content","adapter":"fixture-content","settings":{"rotation":[{"file":"first","mode":"easy"}]}}' \
    >/dev/null
curl -sf -X POST "$base/api/v1/servers" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d '{"name":"fuzzed","adapter":"generic","settings":{"executable":"/bin/sleep","args":["600"]}}' \
    >/dev/null

# Signing out or changing the password would end the fuzzer's own session; a server's live
# log stream never ends by design (it is tested on its own).
"$venv/bin/st" run "$base/api/v1/openapi.json" \
    --checks not_a_server_error \
    --header "Authorization: Bearer $token" \
    --max-examples 25 \
    --generation-deterministic \
    --request-timeout 30 \
    --exclude-path-regex '/logs/stream$' \
    --exclude-path /api/v1/auth/logout \
    --exclude-path /api/v1/auth/password \
    --exclude-path /api/v1/auth/refresh
