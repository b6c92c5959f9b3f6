#!/bin/sh
# render_report.sh — renders a run's report.svg to PNG with headless Chromium, to check in a
# real browser that it reads well.  Usage: tools/render_report.sh RUN_DIR/report.svg [OUT.png]
# Needs chromium (Debian: apt-get install -y chromium).
set -eu
svg=${1:?usage: $0 REPORT.svg [OUT.png]}
png=${2:-${svg%.svg}.png}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "$0: no chromium found (apt-get install -y chromium)" >&2; exit 1; }
# The page size from the SVG's own width and height, so nothing is cut.
w=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)".*/\1/p' "$svg" | head -1)
h=$(sed -n 's/.*<svg[^>]* height="\([0-9]*\)".*/\1/p' "$svg" | head -1)
abs=$(cd "$(dirname "$svg")" && pwd)/$(basename "$svg")
out=$(cd "$(dirname "$png")" && pwd)/$(basename "$png")
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="${w:-850},${h:-640}" --screenshot="$out" "file://$abs" >/dev/null 2>&1
[ -s "$out" ] || { echo "$0: chromium wrote no image" >&2; exit 1; }
echo "$out"
