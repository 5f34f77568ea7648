// Process-wide memory tuning for the processes that forward bytes (the CLI and the Lambda functions).
import { setFlagsFromString } from 'node:v8';

/**
 * undici parses responses with llhttp compiled to WebAssembly on the first request. V8's optimising wasm tier
 * costs ~35 MB of RSS for it; the baseline compiler (Liftoff) is plenty for parsing a few small JSON responses.
 * Must run before the first request. V8 flags set at run time are not an official Node API, so only the
 * composition roots (CLI, Lambda runtime) call this — never the library itself.
 */
export function preferBaselineWasmCompiler(): void {
  try { setFlagsFromString('--liftoff-only'); } catch { /* a V8 without the flag: only memory is at stake */ }
}
