// The container's logger and metrics (Powertools, created at import: they read their level and namespace from the
// environment then), and `log`, the plain (message, fields) face of the logger for lib code that knows nothing of
// Powertools.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Log } from '../core/log';

export const SERVICE_NAME = 'ost-forwarder';
export const METRICS_NAMESPACE = 'OstForwarder';

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export { MetricUnit };

export const log: Log = {
  debug: (message, fields) => logger.debug(message, fields ?? {}),
  info: (message, fields) => logger.info(message, fields ?? {}),
  warn: (message, fields) => logger.warn(message, fields ?? {}),
  error: (message, fields) => logger.error(message, fields ?? {}),
};
