// Prints plain closing lines after jest's own summary:
//   faults: N scenarios, N held, 0 lost, 0 corrupt, 0 orphaned   (when the fault suite ran; see test/support/faults.ts)
//   jest: N passed, N failed, N skipped
// The fault suite writes its tally to FAULTS_SUMMARY_FILE (and one part file per fault test file); a stale file from
// an earlier run is ignored. When a run included every fault test file, docs/faults.md is written from this run:
// the tally, a table per fault file (scenario → outcome → verdict) and the titles of the bad-input and security
// tests with their status. Nobody edits that page by hand.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'ost-forwarder');
const FAULTS_SUMMARY_FILE = path.join(CACHE, 'faults-summary.json');
const FAULTS_PAGE = path.join(ROOT, 'docs', 'faults.md');

const tallyLine = (s) => `faults: ${s.scenarios} scenarios, ${s.held} held, ${s.lost} lost, ${s.corrupt} corrupt, ${s.orphaned} orphaned, ${s.leaked ?? 0} leaked, ${s.violated ?? 0} other violations`;
const cell = (t) => String(t).replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

/** The fault part files written by this jest run (workers are children of this process). */
function partsOfThisRun() {
  const runs = new Set([`ppid-${process.pid}`, `pid-${process.pid}`]);
  const parts = [];
  for (const f of fs.existsSync(CACHE) ? fs.readdirSync(CACHE) : []) {
    if (!f.startsWith('faults-part-')) continue;
    try {
      const p = JSON.parse(fs.readFileSync(path.join(CACHE, f), 'utf8'));
      if (runs.has(p.run)) parts.push(p);
    } catch { /* unreadable: not this run's */ }
  }
  return parts;
}

/** A heading for a fault test file: its first comment line, without the "Fault suite, part N:" lead. */
function describeFile(file) {
  const lead = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('//')) break;
    lead.push(line.replace(/^\/\/\s*/, ''));
  }
  const sentence = lead.join(' ').replace(/^Fault suite, part \d+:\s*/i, '').split(/(?<=\.)\s/)[0] ?? '';
  return sentence.replace(/\.$/, '').replace(/^./, (c) => c.toUpperCase());
}

/** The test file that defines a fault part (`defineFaultSuite('<part>', …)`). */
function partFile(part) {
  const files = fs.readdirSync(path.join(ROOT, 'test')).filter((f) => f.endsWith('.test.ts'));
  return files.find((f) => fs.readFileSync(path.join(ROOT, 'test', f), 'utf8').includes(`defineFaultSuite('${part}'`)) ?? `faults-${part}.test.ts`;
}

function testList(results, name) {
  const file = results.testResults.find((t) => t.testFilePath.endsWith(path.join('test', name)));
  if (!file) return [];
  return file.testResults.map((a) => `| ${cell([...a.ancestorTitles.slice(1), a.title].join(' › '))} | ${a.status} |`);
}

function writeFaultsPage(results, summary, parts) {
  const date = new Date().toISOString().slice(0, 10);
  const out = [
    '# Fault suite results',
    '<!-- Written by `npm test` (test/support/summary-reporter.js) after a run of the whole fault suite; do not edit by hand. -->',
    '',
    `Every scenario below ran through the whole local pipeline in the run of ${date}; what the promise is, how each`,
    'scenario is checked and the known limits are in [failures.md](failures.md).',
    '',
    '```',
    tallyLine(summary),
    '```',
  ];
  for (const p of parts.sort((a, b) => a.part.localeCompare(b.part))) {
    const name = partFile(p.part);
    const file = path.join(ROOT, 'test', name);
    out.push('', `## ${p.part} (test/${name})`, '');
    if (fs.existsSync(file)) out.push(`${describeFile(file)}.`, '');
    out.push('| scenario | outcome | verdict | time |', '|---|---|---|---|');
    for (const r of p.rows ?? []) {
      const verdict = r.verdict === 'held' ? 'held' : `${r.verdict}: ${r.problems.join('; ')}`;
      out.push(`| ${cell(r.scenario)} | ${cell(r.summary)} | ${cell(verdict)} | ${(r.ms / 1000).toFixed(1)} s |`);
    }
  }
  for (const [title, name] of [['Bad input', 'bad-input.test.ts'], ['Security', 'security.test.ts']]) {
    const rows = testList(results, name);
    if (rows.length) out.push('', `## ${title} (test/${name})`, '', '| test | status |', '|---|---|', ...rows);
  }
  fs.writeFileSync(FAULTS_PAGE, out.join('\n') + '\n');
}

class SummaryReporter {
  onRunStart() {
    this.startedAt = Date.now();
  }

  onRunComplete(_contexts, results) {
    const lines = [];
    try {
      const stat = fs.statSync(FAULTS_SUMMARY_FILE);
      if (stat.mtimeMs >= this.startedAt) {
        const s = JSON.parse(fs.readFileSync(FAULTS_SUMMARY_FILE, 'utf8'));
        lines.push(tallyLine(s));
        const faultFiles = fs.readdirSync(path.join(ROOT, 'test'))
          .filter((f) => /\.test\.ts$/.test(f) && fs.readFileSync(path.join(ROOT, 'test', f), 'utf8').includes('defineFaultSuite('));
        const ran = new Set(results.testResults.map((t) => path.basename(t.testFilePath)));
        const parts = partsOfThisRun();
        // A file may define more than one part (faults-integrity.test.ts runs a second part with other settings).
        if (faultFiles.every((f) => ran.has(f)) && parts.length >= faultFiles.length) {
          const total = parts.reduce((t, p) => { for (const k of Object.keys(t)) t[k] += p[k] ?? 0; return t; },
            { scenarios: 0, held: 0, lost: 0, corrupt: 0, orphaned: 0, leaked: 0, violated: 0 });
          writeFaultsPage(results, total, parts);
          lines.push(`faults: ${path.relative(ROOT, FAULTS_PAGE)} written`);
        }
      }
    } catch {
      // the fault suite did not run in this invocation
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    lines.push(`jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
    // Written at exit so these are the last lines, after jest's own summary.
    process.once('exit', () => fs.writeSync(1, '\n' + lines.join('\n') + '\n'));
  }
}

SummaryReporter.FAULTS_SUMMARY_FILE = FAULTS_SUMMARY_FILE;
module.exports = SummaryReporter;
