// What the command line itself reads from the environment, through the one table of settings
// (lib/config/table.ts); the OST client's options come from lib/config/ost-options.ts.
import { readSetting } from '../lib/config/table';

type Env = Record<string, string | undefined>;

export interface CliSettings {
  /** OST_FORWARD_DEBUG=1: an unexpected error prints its stack. */
  debug: boolean;
  /** TRIGGER_DLQ_URL: `redrive`'s queue when --queue-url is not given. */
  triggerDlqUrl?: string;
  /** INTAKE_DLQ_URL / INTAKE_QUEUE_URL: `redrive --intake`'s queues when not given as options. */
  intakeDlqUrl?: string;
  intakeQueueUrl?: string;
  /** S3_ENDPOINT / S3_FORCE_PATH_STYLE / AWS_REGION: the S3 of `put s3://`. */
  s3Endpoint?: string;
  s3ForcePathStyle?: boolean;
  region?: string;
}

export function cliSettings(env: Env = process.env): CliSettings {
  const s3Endpoint = readSetting<string | undefined>(env, 'S3_ENDPOINT');
  return {
    // never throws: a bad value is simply "not 1"
    debug: env.OST_FORWARD_DEBUG === '1',
    triggerDlqUrl: readSetting(env, 'TRIGGER_DLQ_URL'),
    intakeDlqUrl: readSetting(env, 'INTAKE_DLQ_URL'),
    intakeQueueUrl: readSetting(env, 'INTAKE_QUEUE_URL'),
    s3Endpoint,
    s3ForcePathStyle: env.S3_FORCE_PATH_STYLE?.trim() ? readSetting<boolean>(env, 'S3_FORCE_PATH_STYLE') : s3Endpoint !== undefined,
    region: readSetting(env, 'AWS_REGION'),
  };
}
