// A transfer progress bar on stderr, shown only when stderr is a terminal (never in pipes, logs or --json runs
// captured by scripts). Shared by the CLI commands; fed with send()'s SendProgress.
import { SingleBar } from 'cli-progress';
import type { SendProgress } from '../lib/ost/send';

export interface ProgressBar {
  update(progress: SendProgress): void;
  /** Writes a line above the bar (or plainly, when there is no bar). */
  log(line: string): void;
  stop(): void;
}

const MiB = 1024 * 1024;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / (1024 * MiB)).toFixed(2)} GiB`;
}

export function createProgressBar(options: { label?: string; stream?: NodeJS.WriteStream; enabled?: boolean } = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? Boolean(stream.isTTY);
  if (!enabled) {
    return { update: () => {}, log: (line) => { stream.write(line.endsWith('\n') ? line : `${line}\n`); }, stop: () => {} };
  }
  const bar = new SingleBar({
    stream,
    format: `${options.label ?? 'upload'} [{bar}] {percentage}% | {done} / {size} | slices {slicesDone}/{slicesTotal} | {speed} | eta {eta_formatted}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: false,
    fps: 10,
    etaBuffer: 50,
  });
  const started = Date.now();
  let running = false;
  const payload = (p: SendProgress) => {
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    return {
      done: formatBytes(p.bytesDone),
      size: formatBytes(p.bytesTotal),
      slicesDone: p.slicesDone,
      slicesTotal: p.slicesTotal,
      speed: `${formatBytes(Math.round(p.bytesDone / seconds))}/s`,
    };
  };
  return {
    update(p) {
      // A 0-byte total would make the bar divide by zero; show it as one unit.
      const total = Math.max(1, p.bytesTotal);
      const value = p.bytesTotal === 0 ? (p.slicesDone === p.slicesTotal ? 1 : 0) : p.bytesDone;
      if (!running) {
        bar.start(total, value, payload(p));
        running = true;
      } else {
        bar.update(value, payload(p));
      }
    },
    log(line) {
      if (running) {
        // Clear the bar line, print, and let the next render redraw it.
        stream.write(`\r\x1b[2K${line.endsWith('\n') ? line : `${line}\n`}`);
      } else {
        stream.write(line.endsWith('\n') ? line : `${line}\n`);
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
