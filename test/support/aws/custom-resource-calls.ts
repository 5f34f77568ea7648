// The stack's own custom resource for an existing bucket (BucketEventBridgeFunction, scripts/bucket-eventbridge.cjs):
// inline code (ZipFile) over the SDK Lambda provides, unbundled CommonJS. Its call sites are read from the packaged
// template's code (`new <Operation>Command(`), and modelled like our functions' (test/support/aws/call-model.ts).
import type { Call, World } from './call-model';

/**
 * `<client package>.<Operation> @ <file>` of every command the given unbundled CommonJS files construct:
 * `const { XCommand, YCommand: Y } = require('@aws-sdk/client-z')`, then `new XCommand(` or `new Y(`.
 */
export function sourceCallSites(files: Map<string, string>): string[] {
  const sites = new Set<string>();
  for (const [name, text] of files) {
    const locals = new Map<string, string>();
    for (const m of text.matchAll(/\{([^}]*)\}\s*=\s*require\(['"]@aws-sdk\/client-([\w-]+)['"]\)/g)) {
      for (const part of m[1]!.split(',').map((x) => x.trim()).filter(Boolean)) {
        const [imported, local] = part.split(':').map((x) => x.trim());
        if (imported!.endsWith('Command')) locals.set(local ?? imported!, `${m[2]}.${imported!.slice(0, -'Command'.length)}`);
      }
    }
    for (const m of text.matchAll(/new\s+([\w$]+)\(/g)) if (locals.has(m[1]!)) sites.add(`${locals.get(m[1]!)} @ ${name}`);
  }
  return [...sites].sort();
}

/** The call sites of an inline-code function (`Code.ZipFile`, which Lambda stores as index.js). */
export function inlineCallSites(zipFile: string): string[] {
  return sourceCallSites(new Map([['index.js', zipFile]]));
}

/** The bucket EventBridge handler: a read-modify-write of the bucket's notification configuration. */
export const BUCKET_EVENTBRIDGE_CALLS: Record<string, (w: World & { bucket: string }) => Call[]> = {
  's3.GetBucketNotificationConfiguration @ index.js': (w) => [{ action: 's3:GetBucketNotification', resource: `arn:${w.r.target.partition}:s3:::${w.bucket}` }],
  's3.PutBucketNotificationConfiguration @ index.js': (w) => [{ action: 's3:PutBucketNotification', resource: `arn:${w.r.target.partition}:s3:::${w.bucket}` }],
};
