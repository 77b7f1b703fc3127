#!/usr/bin/env bash
# bench/kinesalite.sh: eddy serve against kinesalite, in one run.
#
# Installs kinesalite (https://github.com/mhart/kinesalite) from npm into a
# temporary directory, starts it in memory on a free 127.0.0.1 port with no
# CREATING/DELETING delays, builds eddy, and runs
#   eddy bench kinesis --baseline http://127.0.0.1:PORT --baseline-name kinesalite
# which measures eddy serve's handler in-process first, then kinesalite the
# same way (PutRecords of 500 x 200 B from 1 and 8 clients, then GetRecords of
# everything from 1 and 8 clients, counts checked), and prints the ratios.
#
# kinesalite is not a dependency of eddy, and this script is not run in CI: it
# needs node and npm and the npm registry, and its figures are only meaningful
# on a quiet machine. It kills what it starts and removes its directory.
#
# Usage: bench/kinesalite.sh [eddy bench kinesis flags...]
#   e.g. bench/kinesalite.sh --duration 10s --shards 8
# Environment: KINESALITE_VERSION (default 3.3.3), KEEP_EDDY_BIN=path to use a
# built eddy instead of building one.
set -euo pipefail

cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "kinesalite.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "kinesalite.sh: npm is not installed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-kinesalite-XXXXXX")
kpid=""
cleanup() {
	if [[ -n "$kpid" ]] && kill -0 "$kpid" 2>/dev/null; then
		kill "$kpid" 2>/dev/null || true
		wait "$kpid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

version=${KINESALITE_VERSION:-3.3.3}
echo "installing kinesalite@$version from npm into $work ..." >&2
(cd "$work" && npm install --silent --no-audit --no-fund --no-save "kinesalite@$version" >&2)

eddy=${KEEP_EDDY_BIN:-}
if [[ -z "$eddy" ]]; then
	eddy="$work/eddy"
	echo "building eddy ..." >&2
	go build -o "$eddy" ./cmd/eddy
fi

# kinesalite's CLI cannot listen on port 0 or on loopback only: start its
# server from node, on 127.0.0.1 port 0, and read the port it got.
cat >"$work/start.js" <<'EOF'
var kinesalite = require('kinesalite')
var server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000})
server.listen(0, '127.0.0.1', function() {
  console.log('kinesalite listening on http://127.0.0.1:' + server.address().port)
})
process.on('SIGTERM', function() { process.exit(0) })
EOF
(cd "$work" && exec node start.js >"$work/kinesalite.log" 2>&1) &
kpid=$!

url=""
for _ in $(seq 1 200); do
	url=$(sed -n 's/^kinesalite listening on \(http:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p' "$work/kinesalite.log")
	[[ -n "$url" ]] && break
	kill -0 "$kpid" 2>/dev/null || { echo "kinesalite exited:" >&2; cat "$work/kinesalite.log" >&2; exit 1; }
	sleep 0.05
done
[[ -n "$url" ]] || { echo "kinesalite did not start:" >&2; cat "$work/kinesalite.log" >&2; exit 1; }
echo "kinesalite $version (node $(node --version)) at $url" >&2

"$eddy" bench kinesis --baseline "$url" --baseline-name kinesalite "$@"
