// SIGINT (Ctrl-C) and SIGTERM (timeout, CI, systemd, docker stop) are handled the same way: the command cancels
// what it started (the open multipart upload, the local stack) and exits 128 + the signal number.

import { EXIT } from './exit';

const EXIT_CODES = { SIGINT: EXIT.SIGINT, SIGTERM: EXIT.SIGTERM } as const;

/** Calls `handler` once, on the first SIGINT or SIGTERM, with the exit code for it. Returns a function that stops listening. */
export function onTermination(handler: (exitCode: number, signal: keyof typeof EXIT_CODES) => void): () => void {
  const listeners = (Object.keys(EXIT_CODES) as Array<keyof typeof EXIT_CODES>).map((signal) => {
    const listener = () => { off(); handler(EXIT_CODES[signal], signal); };
    return [signal, listener] as const;
  });
  const off = () => { for (const [signal, listener] of listeners) process.off(signal, listener); };
  for (const [signal, listener] of listeners) process.once(signal, listener);
  return off;
}
