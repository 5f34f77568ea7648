#!/bin/bash
# Lambda exec wrapper (AWS_LAMBDA_EXEC_WRAPPER, serverless.yml): the Node.js runtime's bootstrap starts
#   <this script> /var/lang/bin/node --expose-gc --max-http-header-size 81920 --max-semi-space-size=<memory/20> ... /var/runtime/index.mjs
# and its command-line --max-semi-space-size wins over NODE_OPTIONS. This replaces it with LAMBDA_MAX_SEMI_SPACE_MB
# (1 MiB: streamed chunks are collected promptly; p2 in docs/bench.md) and passes everything else unchanged.
semi="${LAMBDA_MAX_SEMI_SPACE_MB:-1}"
case "$semi" in ''|*[!0-9]*) semi=1 ;; esac
args=()
for a in "$@"; do
  case "$a" in
    --max-semi-space-size=*) args+=("--max-semi-space-size=$semi") ;;
    *) args+=("$a") ;;
  esac
done
exec "${args[@]}"
