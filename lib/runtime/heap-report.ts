// The heap's bounds, logged once per process (a Lambda cold start) by every handler before its work, so that the
// first real deploy shows which heap flags the bootstrap and the exec wrapper left in force (docs/deploy.md).
import { logger } from './logging';
import { heapBounds } from './memory';

let reported = false;

export function reportHeapOnce(): void {
  if (reported) return;
  reported = true;
  logger.info('runtime heap', heapBounds());
}
