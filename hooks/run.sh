#!/bin/sh
# Claude Code plugin launcher for Pattern Tracker: finds Deno and runs one hook with the narrowest
# permissions (the data directory and the config file only). If Deno cannot be found it drains
# stdin and exits 0: a missing tracker must never break a Claude Code session.
hook="$1"
root="${CLAUDE_PLUGIN_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}"
data="${PATTERN_TRACKER_DATA_DIR:-${CLAUDE_PLUGIN_DATA:-$HOME/.claude/pattern-tracker}}"
config="${PATTERN_TRACKER_CONFIG:-$data/config.yaml}"
deno="${PATTERN_TRACKER_DENO:-$(command -v deno 2>/dev/null)}"
for candidate in "$deno" "$root/node_modules/.bin/deno" "$HOME/.deno/bin/deno"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then deno="$candidate"; break; fi
  deno=""
done
if [ -z "$deno" ]; then cat >/dev/null; exit 0; fi
# The post hook may start the flusher with this same binary; --allow-run must name its real path.
deno="$(readlink -f "$deno" 2>/dev/null || echo "$deno")"
mkdir -p "$data" 2>/dev/null && chmod 700 "$data" 2>/dev/null
export PATTERN_TRACKER_DATA_DIR="$data" PATTERN_TRACKER_CONFIG="$config"
# The spill journal's second place, for a read-only or full data directory (src/journal.ts names it).
fallback="/tmp/pattern-tracker-$(printf %s "${data%/}" | cksum | cut -d' ' -f1)"
set -- run --quiet --no-prompt --cached-only --config="$root/deno.json" \
  --allow-read="$data,$fallback,$config" --allow-write="$data,$fallback" --allow-env='HOME,PATTERN_TRACKER_*'
case "$hook" in
  pre) exec "$deno" "$@" "$root/pre_hook.ts" ;;
  post) exec "$deno" "$@" --allow-run="$deno" "$root/post_hook.ts" ;;
  *) cat >/dev/null; exit 0 ;;
esac
