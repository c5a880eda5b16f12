#!/usr/bin/env bash
# The generated-client round trip: generates a Python client (openapi-python-client) from the
# OpenAPI document a real host serves, type-checks tests/client/workflow.py against it with
# mypy --strict, and runs that workflow (sign in, API key, create, start, players, logs, kick,
# audit, stop, delete) against the host, whose Left 4 Dead 2 install is the game-server
# simulator with three players on. Then does the same for the README's TypeScript client
# (openapi-typescript + openapi-fetch, tests/client/workflow.ts, checked with tsc --strict).
# Fails if a generator warns, a workflow needs what the generated types do not offer, or any
# step gets an answer the document does not promise. Installs the Python tools into the venv
# under target/ and the npm packages into tests/client/node_modules on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/host.sh

ensure_venv
./scripts/build-bins.sh
data=$(mktemp -d)
# The game's "installed" executable is the simulator, as in the demo (host/src/demo.rs).
mkdir -p "$data/runtimes/l4d2"
ln -s "$PWD/target/debug/garrison-sim" "$data/runtimes/l4d2/srcds_run"
printf -- '--players=3\n' >"$data/runtimes/l4d2/garrison-sim.flags"
start_host --player-poll 1s

failed=()

# The workflow is written against the client, not around it: no raw HTTP, no casts, no
# untyped escape hatches.
if grep -nE 'cast\(|type: ignore|additional_properties|\bAny\b|import (httpx|requests|urllib)|from (httpx|requests|urllib)' \
    tests/client/workflow.py >&2; then
    failed+=("tests/client/workflow.py steps around the generated client (lines above)")
fi

out=target/client-roundtrip
rm -rf "$out"
mkdir -p "$out"
echo "== generating the Python client from $base/api/v1/openapi.json"
# ruff, which the generator runs on its output, is in the venv.
if ! generated=$(PATH="$PWD/$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate \
    --url "$base/api/v1/openapi.json" --meta none --output-path "$out/garrison_api_client" \
    --fail-on-warning 2>&1); then
    printf '%s\n' "$generated" >&2
    echo "FAIL: openapi-python-client could not generate the client" >&2
    exit 1
fi
printf '%s\n' "$generated"
if grep -qiE 'warning|error|skipping' <<<"$generated"; then
    failed+=("openapi-python-client warned (output above)")
fi
# Not a failure, but worth reading: the models the generator had to name itself, for
# schemas the document leaves inline (objects, enums, union members).
curl -sSf "$base/api/v1/openapi.json" >"$out/openapi.json"
python3 - "$out/openapi.json" "$out/garrison_api_client/models/__init__.py" <<'PY'
import json, re, sys
schemas = json.load(open(sys.argv[1]))["components"]["schemas"]
named = {re.sub("[^a-z0-9]", "", name.lower()) for name in schemas}
models = re.findall(r"^from \.\S+ import (\w+)$", open(sys.argv[2]).read(), re.M)
invented = [model for model in models if model.lower() not in named]
print(f"{len(models)} models, {len(invented)} named by the generator:", ", ".join(invented))
PY
echo "== type-checking tests/client/workflow.py against it"
if ! MYPYPATH=$out "$venv/bin/mypy" --strict --follow-imports=silent \
    --cache-dir target/mypy-cache \
    tests/client/workflow.py; then
    failed+=("tests/client/workflow.py does not type-check against the generated client")
fi

echo "== the workflow"
if ! GARRISON_URL=$base GARRISON_ADMIN_PASSWORD=$(cat "$data/initial-admin-password") \
    GARRISON_GAME_PORT=$(free_port) PYTHONPATH=$out \
    "$venv/bin/python" tests/client/workflow.py; then
    failed+=("the workflow through the generated client")
fi

echo "== the TypeScript client (openapi-typescript + openapi-fetch), as the README shows it"
if [ ! -x tests/client/node_modules/.bin/tsc ]; then
    (cd tests/client && npm ci --no-audit --no-fund --silent)
fi
ts=$out/ts
mkdir -p "$ts"
cp tests/client/workflow.ts "$ts/"
ln -s "$PWD/tests/client/node_modules" "$ts/node_modules"
printf '{"type": "module"}\n' >"$ts/package.json"
if ! typed=$(tests/client/node_modules/.bin/openapi-typescript "$out/openapi.json" \
    -o "$ts/garrison-api.d.ts" 2>&1); then
    printf '%s\n' "$typed" >&2
    failed+=("openapi-typescript could not generate the types")
else
    printf '%s\n' "$typed"
    if grep -qiE 'warn|error' <<<"$typed"; then
        failed+=("openapi-typescript warned (output above)")
    fi
    if ! tests/client/node_modules/.bin/tsc --strict --target es2022 --module nodenext \
        --types node --typeRoots tests/client/node_modules/@types --skipLibCheck \
        --noEmitOnError --outDir "$ts" "$ts/workflow.ts"; then
        failed+=("tests/client/workflow.ts does not type-check against the generated types")
    elif ! GARRISON_PASSWORD=typescript-password \
        ./target/debug/garrison user create typescript --admin --data-dir "$data" ||
        ! GARRISON_URL=$base GARRISON_USERNAME=typescript GARRISON_PASSWORD=typescript-password \
            GARRISON_GAME_PORT=$(free_port) node "$ts/workflow.js"; then
        failed+=("the TypeScript workflow")
    fi
fi

if grep -n 'panicked' "$data/host.log" >&2; then
    failed+=("the host panicked (lines above, from its log)")
fi
if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAIL: %s\n' "${failed[@]}" >&2
    exit 1
fi
