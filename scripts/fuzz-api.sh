#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis against its own OpenAPI document: a real host on a
# loopback port with a scratch data directory and servers to act on, fuzzed in turn as a
# viewer, an operator and an administrator, so that every authorisation path is exercised.
# Every answer must conform to the document (status, content type, headers, body schema),
# no input may cause a 5xx, and data the document forbids must be refused. After each run,
# every fuzzing identity's session must still work, and at the end the host's log must hold
# no panic. Installs schemathesis into a venv under target/ on first use.
#
# FUZZ_MAX_EXAMPLES (default 25) sets the cases per operation and phase; FUZZ_ARGS adds
# schemathesis options (e.g. `--continue-on-failure`, `--report junit`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/host.sh

ensure_venv
./scripts/build-bins.sh
data=$(mktemp -d)
# A drop-in game with missions and mods (a neutral test fixture, built with the host), so the
# content endpoints are fuzzed against real files rather than only refusing.
mkdir -p "$data/adapters" "$data/runtimes/fixture-content/maps" \
    "$data/runtimes/fixture-content/addons/+pack"
cp target/adapters-wasm/wasm32-wasip2/release/garrison_fixture_content.wasm "$data/adapters/"
printf 'mission\n' >"$data/runtimes/fixture-content/maps/first.dat"
start_host

admin_token=$(sign_in admin "$(cat "$data/initial-admin-password")")
# Something for the server endpoints to find: server 1 has missions and mods, server 2 is a
# plain process.
content=$(api POST /servers "$admin_token" \
    '{"name":"fuzzed content","adapter":"fixture-content","settings":{"rotation":[{"file":"first","mode":"easy"}]}}' |
    json id)
plain=$(api POST /servers "$admin_token" \
    '{"name":"fuzzed","adapter":"generic","settings":{"executable":"/bin/sleep","args":["600"]}}' |
    json id)

# The other identities. An account an administrator creates can be used at once (only the
# generated first administrator is asked to choose a new password). The operator manages the
# content server, the viewer sees both; the stand-in takes the hits meant for the others (see
# tests/fuzz/hooks.py).
user() { # NAME ROLE -> id
    api POST /users "$admin_token" "{\"username\":\"$1\",\"password\":\"fuzz-$1-password\",\"role\":\"$2\"}" |
        json id
}
operator=$(user fuzz-operator operator)
viewer=$(user fuzz-viewer viewer)
standin=$(user fuzz-standin viewer)
api PUT "/users/$operator/grants" "$admin_token" "{\"server_id\":$content,\"role\":\"operator\"}" >/dev/null
api PUT "/users/$viewer/grants" "$admin_token" "{\"server_id\":$content,\"role\":\"viewer\"}" >/dev/null
api PUT "/users/$viewer/grants" "$admin_token" "{\"server_id\":$plain,\"role\":\"viewer\"}" >/dev/null
api PUT "/users/$standin/grants" "$admin_token" "{\"server_id\":$plain,\"role\":\"viewer\"}" >/dev/null
# Every identity signs in now: the fuzzer's failed sign-ins soon lock this client address out
# of signing in (429), while refreshing a session is not limited.
declare -A token
token[admin]=$admin_token
token[operator]=$(sign_in fuzz-operator fuzz-fuzz-operator-password)
token[viewer]=$(sign_in fuzz-viewer fuzz-fuzz-viewer-password)
admin_id=$(api GET /auth/me "$admin_token" | json id)
export GARRISON_FUZZ_PROTECTED_USERS="$admin_id,$operator,$viewer"
export GARRISON_FUZZ_STANDIN_USER=$standin
export SCHEMATHESIS_HOOKS=tests/fuzz/hooks.py

# Sessions live 15 minutes: each is refreshed before every run, so each run has its own 15.
refresh_all() {
    local who
    for who in "${!token[@]}"; do
        token[$who]=$(api POST /auth/refresh "${token[$who]}" | json token) || {
            echo "FAIL: the $who's session no longer refreshes" >&2
            return 1
        }
    done
}
# Every identity's session still works: a run that ended one would have turned its remaining
# requests into 401s.
check_sessions() {
    local who ok=0
    for who in "${!token[@]}"; do
        if ! api GET /auth/me "${token[$who]}" >/dev/null; then
            echo "FAIL: after fuzzing as $1, the $who's session no longer works" >&2
            ok=1
        fi
    done
    return $ok
}

failed=()
for who in viewer operator admin; do
    refresh_all
    echo "== fuzzing as the $who"
    started=$SECONDS
    # Excluded: signing out and changing one's own password would end the fuzzer's own
    # session (refreshing is left out with them; this script refreshes every session before
    # each run); a server's live log stream never ends by design (it is tested on its own).
    # The checks, and where the document cannot say what is valid: tests/fuzz/schemathesis.toml.
    # shellcheck disable=SC2086 # FUZZ_ARGS are words to pass on
    if ! "$venv/bin/st" --config-file tests/fuzz/schemathesis.toml run "$base/api/v1/openapi.json" \
        --header "Authorization: Bearer ${token[$who]}" \
        --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
        --generation-deterministic \
        --request-timeout 30 \
        --exclude-path-regex '/logs/stream$' \
        --exclude-path /api/v1/auth/logout \
        --exclude-path /api/v1/auth/password \
        --exclude-path /api/v1/auth/refresh \
        ${FUZZ_ARGS:-}; then
        failed+=("fuzzing as the $who")
    fi
    echo "== fuzzing as the $who took $((SECONDS - started)) s"
    check_sessions "the $who" || failed+=("sessions after fuzzing as the $who")
done

if grep -n 'panicked' "$data/host.log" >&2; then
    failed+=("the host panicked (lines above, from its log)")
fi
if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAIL: %s\n' "${failed[@]}" >&2
    exit 1
fi
