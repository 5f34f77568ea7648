// Packaging refuses a stage param value a function would refuse (serverless `${file(...)}` JS resolver): every
// param of the table of settings (lib/config/table.ts) is read through the same parser the functions use, bundled
// here with esbuild, and the first bad one fails `serverless package` / `deploy` with one line naming the param.
'use strict';
const { join } = require('node:path');

let table;
/** lib/config/table.ts, compiled once per packaging (it imports nothing but pure lib code). */
function loadTable() {
  if (table) return table;
  const { buildSync } = require('esbuild');
  const out = buildSync({ entryPoints: [join(__dirname, '..', 'lib', 'config', 'table.ts')], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent' });
  const m = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(m, m.exports, require);
  return (table = m.exports);
}

module.exports = async ({ resolveVariable }) => {
  const { SETTINGS, paramProblem } = loadTable();
  const checked = [];
  for (const spec of SETTINGS) {
    if (!spec.param || !spec.read) continue;
    const v = await resolveVariable(`param:${spec.param}, ''`);
    const problem = paramProblem(spec.param, typeof v === 'string' ? v : String(v ?? ''));
    if (problem) throw new Error(problem);
    checked.push(spec.param);
  }
  return checked.join(',');
};
