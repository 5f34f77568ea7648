// Imported first by bench.ts: what every bench process needs before any project module loads.
// - the Powertools logger reads its level when lib/runtime/logging.ts is loaded, before the local stack sets it;
// - two warnings that would bury the table: the SDK's Node version notice (it has a switch), and the YAML parser's
//   notes about CloudFormation tags in serverless.yml that the local runner does not need.

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  const name = warning instanceof Error ? warning.name : type;
  if (name === 'YAMLWarning') return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

export {};
