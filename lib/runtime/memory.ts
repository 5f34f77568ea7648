// Process-wide memory tuning for the processes that forward bytes (the CLI and the Lambda functions).
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * undici parses responses with llhttp compiled to WebAssembly on the first request. V8's optimising wasm tier
 * costs ~35 MB of RSS for it; the baseline compiler (Liftoff) is plenty for parsing a few small JSON responses.
 * Must run before the first request. V8 flags set at run time are not an official Node API, so only the
 * composition roots (CLI, Lambda runtime) call this — never the library itself.
 */
export function preferBaselineWasmCompiler(): void {
  try { setFlagsFromString('--liftoff-only'); } catch { /* a V8 without the flag: only memory is at stake */ }
}

/**
 * What bounds this process's heap: the flags on node's command line (not NODE_OPTIONS'), NODE_OPTIONS, and the heap
 * limit V8 settled on. On Lambda these show whether the bootstrap added its own heap flags and the exec wrapper
 * set both (docs/deploy.md). Each text is cut short: nothing here grows with what a caller set.
 */
export function heapBounds(): { execArgv: string[]; nodeOptions?: string; heapLimitMb: number } {
  const cut = (t: string): string => (t.length > 200 ? `${t.slice(0, 199)}…` : t);
  const nodeOptions = process.env.NODE_OPTIONS;
  return {
    execArgv: process.execArgv.slice(0, 20).map(cut),
    ...(nodeOptions ? { nodeOptions: cut(nodeOptions) } : {}),
    heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 1048576),
  };
}
