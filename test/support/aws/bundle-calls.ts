// The AWS operations a packaged function can make, read from its zip: every `new <Command>(` of an AWS SDK v3 client
// in the minified bundle, mapped through the source map beside it to the file that makes it. The SDK's command
// builder keeps the operation and client names as strings (`class X extends command(ep, mw, "GetObject", schema)`
// with `command = makeBuilder(params, "AmazonS3", "S3Client", plugin)`), which minification does not touch.
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

/** The entries of a zip by name (stored or deflated). */
export function unzip(path: string): Map<string, Buffer> {
  const b = readFileSync(path);
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = b.readUInt16LE(eocd + 10);
  let at = b.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = b.readUInt16LE(at + 10), size = b.readUInt32LE(at + 20);
    const nameLength = b.readUInt16LE(at + 28), extra = b.readUInt16LE(at + 30), comment = b.readUInt16LE(at + 32);
    const local = b.readUInt32LE(at + 42);
    const name = b.toString('utf8', at + 46, at + 46 + nameLength);
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const data = b.subarray(start, start + size);
    out.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extra + comment;
  }
  return out;
}

export interface CallSite {
  /** The SDK client, e.g. S3Client. */
  client: string;
  /** The API operation, e.g. GetObject. */
  operation: string;
  /** The source file that constructs the command: a project path, or node_modules/<package>. */
  source: string;
}

/** node_modules/@scope/name/dist-es/x.js → node_modules/@scope/name; project files stay as they are. */
function sourceName(file: string | null): string {
  if (!file) return '(unmapped)';
  const path = file.replace(/\\/g, '/').replace(/^(\.\.\/)+/, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m ? `node_modules/${m[1]}` : path;
}

/** Every distinct command construction of a bundle (its text and source map). */
export function callSites(bundle: string, map: string): CallSite[] {
  const builders = new Map<string, string>();
  for (const m of bundle.matchAll(/([\w$]+)=[\w$]+\([\w$]+,"\w+","(\w+Client)",[\w$]+\)/g)) builders.set(m[1]!, m[2]!);
  const commands = new Map<string, { client: string; operation: string }>();
  for (const m of bundle.matchAll(/([\w$]+)=class extends ([\w$]+)\([\w$]+,[\w$]+,"(\w+)",/g)) {
    const client = builders.get(m[2]!);
    if (client) commands.set(m[1]!, { client, operation: m[3]! });
  }
  if (commands.size === 0 && /Command/.test(bundle) && /@aws-sdk\/client-/.test(map)) {
    throw new Error('an AWS SDK client is bundled but no command class was recognised: the SDK changed its command builder');
  }
  const trace = new TraceMap(map);
  const lineStarts = [0];
  for (let i = bundle.indexOf('\n'); i >= 0; i = bundle.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const position = (index: number) => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= index) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, column: index - lineStarts[lo]! };
  };
  const sites = new Map<string, CallSite>();
  for (const [name, command] of commands) {
    const escaped = name.replace(/\$/g, '\\$');
    for (const m of bundle.matchAll(new RegExp(`new\\s+${escaped}\\(`, 'g'))) {
      const site = { ...command, source: sourceName(originalPositionFor(trace, position(m.index!)).source) };
      sites.set(`${site.client} ${site.operation} ${site.source}`, site);
    }
  }
  return [...sites.values()].sort((a, b) => `${a.client}${a.operation}${a.source}`.localeCompare(`${b.client}${b.operation}${b.source}`));
}

/** The call sites of one function's zip (its single .js bundle and the .map beside it). */
export function zipCallSites(zipPath: string): CallSite[] {
  const entries = unzip(zipPath);
  const js = [...entries.keys()].filter((n) => n.endsWith('.js') && !n.includes('node_modules/'));
  if (js.length !== 1) throw new Error(`${zipPath}: expected one bundle, found ${js.join(', ') || 'none'}`);
  const map = entries.get(`${js[0]}.map`);
  if (!map) throw new Error(`${zipPath}: no source map beside ${js[0]}`);
  return callSites(entries.get(js[0]!)!.toString('utf8'), map.toString('utf8'));
}
