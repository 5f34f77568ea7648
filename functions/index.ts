// Every step handler by its serverless.yml function key (the local runner maps Task resources through this).
import { handler as trigger } from './trigger';
import { handler as prepare } from './prepare';
import { handler as uploadWhole } from './upload-whole';
import { handler as uploadSlices } from './upload-slices';
import { handler as complete } from './complete';
import { handler as cancel } from './cancel';
import { handler as report } from './report';
import { handler as release } from './release';

export const handlers = { trigger, prepare, uploadWhole, uploadSlices, complete, cancel, report, release };
export type FunctionKey = keyof typeof handlers;
