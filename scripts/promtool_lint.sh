#!/usr/bin/env bash
# Runs `promtool check metrics` on a live exporter's output. The only findings allowed
# are the two that the tutorial's own names cause (see README, "promtool's findings").
set -euo pipefail
exporter=${1:-./exporter}
log=$(mktemp)
"$exporter" --web.listen-address=127.0.0.1:0 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  addr=$(grep -o 'address=127.0.0.1:[0-9]*' "$log" | head -1 | cut -d= -f2) && [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "${addr:-}" ] || { echo "exporter did not start:"; cat "$log"; exit 1; }
findings=$(curl -fsS "http://$addr/metrics" | promtool check metrics 2>&1 || true)
allowed=$'bar_metric counter metrics should have "_total" suffix\nfoo_metric counter metrics should have "_total" suffix'
if [ "$findings" != "$allowed" ]; then
  echo "promtool check metrics: unexpected findings:"
  echo "$findings"
  exit 1
fi
echo "promtool: only the two findings the tutorial's names cause"
