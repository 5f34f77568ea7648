// The inline code (ZipFile, at most 4,096 characters) of the existing bucket's custom resource:
// scripts/bucket-eventbridge.cjs without its comment lines (serverless `${file(...)}` JS resolver).
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

module.exports = () => {
  const code = readFileSync(join(__dirname, 'bucket-eventbridge.cjs'), 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\/\*\*.*\*\/$)/.test(l)).join('\n');
  if (code.length > 4096) throw new Error(`scripts/bucket-eventbridge.cjs is ${code.length} characters without comments; inline code takes at most 4096`);
  return code;
};
