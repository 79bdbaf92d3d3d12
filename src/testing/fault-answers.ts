import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestFault } from './faults.js';
import type { StatsRecorder } from './stats.js';
import { type BodyCodec, sendError } from './wire.js';

/** Answers a request with the fault drawn for it, as the service or the network would, and counts it. */
export function answerWithFault(
  fault: RequestFault,
  request: IncomingMessage,
  response: ServerResponse,
  codec: BodyCodec,
  stats: StatsRecorder,
): void {
  stats.live.faults[fault]++;
  switch (fault) {
    case 'connectionReset':
      request.socket.resetAndDestroy();
      return;
    case 'hang':
      return;
    case 'internalFailure':
      sendError(response, 500, codec, 'InternalFailure', 'Internal service failure.');
      return;
    case 'serviceUnavailable':
      sendError(response, 503, codec, 'ServiceUnavailable', 'Service is unavailable, try again later.');
      return;
  }
}
