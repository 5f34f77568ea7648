#!/bin/bash
# Lambda exec wrapper (AWS_LAMBDA_EXEC_WRAPPER, serverless.yml): the Node.js runtime's bootstrap runs
#   <this script> /var/lang/bin/node --expose-gc --max-http-header-size 81920 [heap flags] ... /var/runtime/index.mjs
# Whether the bootstrap passes heap flags depends on its version: one adds --max-semi-space-size=<memory/20> and
# --max-old-space-size=<memory - memory/10>, which win over NODE_OPTIONS; the published node20.x and node24.x
# bootstraps add neither when NODE_OPTIONS already sets one, leaving the other at V8's default. Either way this
# drops the heap flags it was given and sets both: the semi-space to LAMBDA_MAX_SEMI_SPACE_MB (1 MiB: streamed
# chunks are collected promptly; p2 in docs/bench.md), the old space to LAMBDA_MAX_OLD_SPACE_MB, else the
# function's memory less a tenth (AWS_LAMBDA_FUNCTION_MEMORY_SIZE). Everything else passes unchanged.
whole() { case "$1" in ''|*[!0-9]*) return 1 ;; esac; }
semi="${LAMBDA_MAX_SEMI_SPACE_MB:-1}"
whole "$semi" || semi=1
old="${LAMBDA_MAX_OLD_SPACE_MB:-}"
mem="${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-}"
if ! whole "$old"; then
  old=""
  whole "$mem" && old=$(( mem - mem / 10 ))
fi
node="$1"
shift
args=("$node" "--max-semi-space-size=$semi")
[ -n "$old" ] && args+=("--max-old-space-size=$old")
for a in "$@"; do
  case "$a" in
    --max-semi-space-size=*) ;;
    --max-old-space-size=*) [ -n "$old" ] || args+=("$a") ;;  # kept only when no bound is known here
    *) args+=("$a") ;;
  esac
done
exec "${args[@]}"
