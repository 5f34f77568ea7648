// Prints plain closing lines after jest's own summary:
//   faults: N scenarios, N held, 0 lost, 0 corrupt, 0 orphaned   (when the fault suite ran; see test/support/faults.ts)
//   jest: N passed, N failed, N skipped
// The fault suite writes its tally to FAULTS_SUMMARY_FILE; a stale file from an earlier run is ignored.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const FAULTS_SUMMARY_FILE = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'ost-forwarder', 'faults-summary.json');

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
        lines.push(`faults: ${s.scenarios} scenarios, ${s.held} held, ${s.lost} lost, ${s.corrupt} corrupt, ${s.orphaned} orphaned, ${s.leaked ?? 0} leaked, ${s.violated ?? 0} other violations`);
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
