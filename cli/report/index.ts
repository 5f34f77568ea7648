// Where `status --report FILE` writes: the kind comes from the name (.html or .csv). The CSV is streamed record by
// record; the HTML page is written once the summary is complete. Written to FILE.tmp, then renamed: a report that
// fails half-way leaves no half file.
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { OutcomeRecord } from '../../lib/workflow/outcome-records';
import type { StatusSummary } from '../../lib/workflow/status';
import { UsageError } from '../args';
import { CSV_HEADER, csvRow } from './csv';
import { reportHtml } from './html';

export type ReportKind = 'html' | 'csv';

export function reportKind(path: string): ReportKind {
  const m = /\.(html?|csv)$/i.exec(path);
  if (!m) throw new UsageError(`--report: the file name must end in .html or .csv, got ${JSON.stringify(path.slice(-60))}`);
  return m[1]!.toLowerCase().startsWith('htm') ? 'html' : 'csv';
}

export interface ReportWriter {
  onRecord(r: OutcomeRecord, location: string): void;
  finish(where: string, summary: StatusSummary): Promise<void>;
  abort(): void;
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export function openReport(path: string): ReportWriter {
  const kind = reportKind(path);
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  let pending: Promise<void> = Promise.resolve();
  let failed: unknown;
  out.on('error', (err) => { failed = err; });
  if (kind === 'csv') pending = write(out, CSV_HEADER.join(',') + '\r\n');
  return {
    onRecord(r, location) {
      if (kind === 'csv') pending = pending.then(() => write(out, csvRow(r, location) + '\r\n'));
    },
    async finish(where, summary) {
      await pending;
      if (kind === 'html') await write(out, reportHtml(where, summary));
      out.end();
      await once(out, 'finish');
      if (failed) throw failed;
      renameSync(tmp, path);
    },
    abort() {
      out.destroy();
      rmSync(tmp, { force: true });
    },
  };
}
