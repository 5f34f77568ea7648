// The serverless framework's own custom resource for an existing bucket's notifications (custom-resources.zip,
// `s3/handler.handler`): unbundled CommonJS over the SDK Lambda provides. Its call sites are read from the zip the
// same way (`new <Operation>Command(`), and modelled like our functions' (test/support/aws/call-model.ts).
import type { Call, World } from './call-model';
import { unzip } from './bundle-calls';

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

/** The call sites of the files under a zipped handler's folder (and the shared utils.js). */
export function frameworkCallSites(zipPath: string, handler: string): string[] {
  const folder = handler.split('/')[0]!;
  const files = new Map<string, string>();
  for (const [name, data] of unzip(zipPath)) {
    if (name.endsWith('.js') && (name.startsWith(`${folder}/`) || name === 'utils.js')) files.set(name, data.toString('utf8'));
  }
  return sourceCallSites(files);
}

/** The framework's existing-bucket handler: it replaces the bucket's notification and lets S3 invoke the trigger. */
export const FRAMEWORK_S3_CALLS: Record<string, (w: World & { bucket: string; triggerArn: string }) => Call[]> = {
  's3.GetBucketNotificationConfiguration @ s3/lib/bucket.js': (w) => [{ action: 's3:GetBucketNotification', resource: `arn:${w.r.target.partition}:s3:::${w.bucket}` }],
  's3.PutBucketNotificationConfiguration @ s3/lib/bucket.js': (w) => [{ action: 's3:PutBucketNotification', resource: `arn:${w.r.target.partition}:s3:::${w.bucket}` }],
  'lambda.AddPermission @ s3/lib/permissions.js': (w) => [{ action: 'lambda:AddPermission', resource: w.triggerArn }],
  'lambda.RemovePermission @ s3/lib/permissions.js': (w) => [{ action: 'lambda:RemovePermission', resource: w.triggerArn }],
};
