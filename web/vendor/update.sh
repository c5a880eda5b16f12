#!/usr/bin/env bash
# Fetches the dashboard's libraries at pinned versions with `npm pack`, copies their ES-module
# builds here and writes SHA256SUMS. The results are committed, so building Garrison needs no
# Node; run this only to change a version (then review the diff and commit it).
#
# Bare module specifiers (`from "preact"`) are rewritten to relative paths (`from "./preact.mjs"`)
# so the browser resolves them without a bundler and without an import map: an import map is an
# inline script, which the Content-Security-Policy would have to allow by hash.
set -euo pipefail
cd "$(dirname "$0")"

PREACT=10.29.8
HTM=3.1.1
SIGNALS=2.11.4
SIGNALS_CORE=1.14.5
UPLOT=1.6.32

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # package version -> unpacked directory
    local dir="$work/$(echo "$1" | tr '/@' '__')"
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$1@$2" >/dev/null && tar xzf ./*.tgz)
    echo "$dir/package"
}

# copy SOURCE DEST: the file without its source-map comment, bare imports made relative.
copy() {
    sed -E \
        -e 's#from ?"preact/hooks"#from"./hooks.mjs"#g' \
        -e 's#from ?"preact"#from"./preact.mjs"#g' \
        -e 's#from ?"@preact/signals-core"#from"./signals-core.mjs"#g' \
        -e '/^\/\/# sourceMappingURL=/d' \
        "$1" >"$2"
    if grep -Eq '(import|export)[^"]*from ?"[^./]' "$2"; then
        echo "$2 still imports a bare specifier" >&2
        exit 1
    fi
}

p=$(fetch preact "$PREACT")
copy "$p/dist/preact.module.js" preact.mjs
copy "$p/hooks/dist/hooks.module.js" hooks.mjs
cp "$p/LICENSE" LICENSE.preact
p=$(fetch htm "$HTM")
copy "$p/dist/htm.mjs" htm.mjs
cp "$p/LICENSE" LICENSE.htm
p=$(fetch @preact/signals-core "$SIGNALS_CORE")
copy "$p/dist/signals-core.mjs" signals-core.mjs
cp "$p/LICENSE" LICENSE.signals-core
p=$(fetch @preact/signals "$SIGNALS")
copy "$p/dist/signals.mjs" signals.mjs
cp "$p/LICENSE" LICENSE.signals
p=$(fetch uplot "$UPLOT")
copy "$p/dist/uPlot.esm.js" uplot.mjs
cp "$p/dist/uPlot.min.css" uplot.css
cp "$p/LICENSE" LICENSE.uplot

cat >VERSIONS <<VERSIONS
preact $PREACT
htm $HTM
@preact/signals $SIGNALS
@preact/signals-core $SIGNALS_CORE
uplot $UPLOT
VERSIONS

sha256sum preact.mjs hooks.mjs htm.mjs signals-core.mjs signals.mjs uplot.mjs uplot.css >SHA256SUMS
echo "vendored: $(tr '\n' ' ' <VERSIONS)"
