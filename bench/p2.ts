// p2: peak RSS of one process uploading one 1 GiB slice — ours (the uploadSlices handler, streamed) and the
// naive way (the slice in memory, FormData + Blob). The parent does init/cancel and serves the SSM secrets from
// the local AWS endpoint, so the child does exactly one slice upload and nothing else.
import { join } from 'node:path';
import { OstClient } from '../lib/ost/client';
import { headSource } from '../lib/sources/s3';
import { startAwsServer } from '../local/aws/endpoint';
import { localS3Client } from '../local/aws/s3';
import { bootstrapHeapFlags } from './cold-start';
import { buildChild, lambdaBuild, measurePeakRss, type LambdaBuild, type RssResult } from './rss';
import type { Servers } from './servers';

const KEY_PARAM = '/ost-forwarder/bench/api-key';
const SECRET_PARAM = '/ost-forwarder/bench/api-secret';

export interface P2Result {
  /** The deployed configuration: serverless.yml's esbuild settings and NODE_OPTIONS. */
  ours: RssResult;
  /** The same bundle started without the NODE_OPTIONS flags: what they change. */
  oursWithoutNodeOptions?: RssResult;
  /**
   * The same bundle started as a Lambda bootstrap that passes its own heap flags starts it for a 1024 MB function
   * (--max-semi-space-size / --max-old-space-size on the command line, which win over NODE_OPTIONS; whether the
   * nodejs22.x one does is not known: docs/deploy.md, "Heap bounds on Lambda").
   */
  oursLambdaBootstrap?: RssResult;
  naive: RssResult;
  build: LambdaBuild;
}

export async function runP2(root: string, tmp: string, servers: Servers, key: string, onStep: (what: string) => void): Promise<P2Result> {
  const lambda = lambdaBuild(root);
  const script = await buildChild(root, tmp, lambda);
  // the naive pattern uses undici's fetch, which the Lambda bundles' undici alias (Pool only) leaves out
  const naiveScript = await buildChild(root, tmp, { ...lambda, alias: {} }, 'rss-child-naive.js');
  const aws = await startAwsServer({
    stepFunctions: { startExecution: () => { throw new Error('not used'); }, describeExecution: () => { throw new Error('not used'); } },
    parameters: { [KEY_PARAM]: servers.ost.apiKey, [SECRET_PARAM]: servers.ost.apiSecret },
  });
  const s3 = localS3Client(servers.s3);
  const ost = new OstClient({ endpoint: servers.ost.endpoint, appId: servers.ost.appId, apiKey: servers.ost.apiKey, apiSecret: servers.ost.apiSecret });
  try {
    const object = await headSource(s3, { bucket: servers.bucket, key });
    const env = {
      ...aws.env(),
      AWS_ACCESS_KEY_ID: servers.s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: servers.s3.secretAccessKey,
      AWS_REGION: servers.s3.region,
      S3_ENDPOINT: servers.s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      OST_ENDPOINT: servers.ost.endpoint,
      OST_APP_ID: servers.ost.appId,
      OST_API_KEY_PARAM: KEY_PARAM,
      OST_API_SECRET_PARAM: SECRET_PARAM,
      POWERTOOLS_SERVICE_NAME: 'ost-forwarder',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    const one = async (role: 'p2-ours' | 'p2-naive', execArgv: string[]): Promise<RssResult> => {
      await servers.purge();
      const { uploadId } = await ost.init();
      try {
        const batch = { object, plan: { mode: 'multipart' as const, size: object.size, sliceSize: object.size, sliceCount: 1 }, uploadId, batch: [1, 1] as [number, number], executionName: 'bench-p2' };
        return await measurePeakRss(role === 'p2-naive' ? naiveScript : script, { role, batch, s3Endpoint: servers.s3.endpoint, ost: servers.ost, env, execArgv });
      } finally {
        await ost.cancel(uploadId).catch(() => undefined);
      }
    };
    onStep(`p2: one process uploading one 1 GiB slice through the uploadSlices handler, streamed (ours; NODE_OPTIONS ${lambda.nodeOptions.join(' ') || 'none'}, as serverless.yml)`);
    const ours = await one('p2-ours', lambda.nodeOptions);
    let oursWithoutNodeOptions: RssResult | undefined;
    if (lambda.nodeOptions.length > 0) {
      onStep('p2: the same, without NODE_OPTIONS');
      oursWithoutNodeOptions = await one('p2-ours', []);
    }
    onStep(`p2: the same, started with the Lambda bootstrap's flags (${bootstrapHeapFlags(1024).join(' ')}) after NODE_OPTIONS`);
    const oursLambdaBootstrap = await one('p2-ours', [...lambda.nodeOptions, ...bootstrapHeapFlags(1024)]);
    onStep('p2: the same slice read into memory and sent as FormData + Blob (naive)');
    const naive = await one('p2-naive', lambda.nodeOptions);
    return { ours, oursWithoutNodeOptions, oursLambdaBootstrap, naive, build: lambda };
  } finally {
    await ost.close();
    s3.destroy();
    await aws.close();
  }
}

