import { checkMaxRecordSize, DEFAULT_MAX_RECORD_SIZE_KIB, isMaxRecordSize } from './local-kinesis-options.js';
import { decodeFields, maxRecordSizeMessage, nameStreamByArn } from './request-fields.js';
import { sendAnswer } from './server-support.js';
import { streamNameOf } from './stream-names.js';
import { type LocalRequest, passThrough, type RequestHost } from './stream-requests.js';
import { sendBody, sendError } from './wire.js';

/** Each stream's MaxRecordSizeInKiB, which kinesalite predates: 1,024 unless CreateStream or UpdateMaxRecordSize raised it. */
export class RecordSizes {
  /** Only the streams that changed it from the default. */
  readonly #sizes = new Map<string, number>();

  /** The stream's MaxRecordSizeInKiB. */
  get(streamName: string): number {
    return this.#sizes.get(streamName) ?? DEFAULT_MAX_RECORD_SIZE_KIB;
  }

  /** Sets it. @throws RangeError unless it is a whole number from 1,024 to 10,240. */
  set(streamName: string, maxRecordSizeInKiB: number): void {
    checkMaxRecordSize(maxRecordSizeInKiB);
    if (maxRecordSizeInKiB === DEFAULT_MAX_RECORD_SIZE_KIB) this.#sizes.delete(streamName);
    else this.#sizes.set(streamName, maxRecordSizeInKiB);
  }

  /** Back to the default: the stream was deleted or created anew. */
  forget(streamName: string): void {
    this.#sizes.delete(streamName);
  }
}

/** UpdateMaxRecordSize, which kinesalite does not know: the service's checks and errors, applied at once. */
export async function updateMaxRecordSizeRequest(host: RequestHost, call: LocalRequest): Promise<void> {
  const { response, body, codec } = call;
  const input = decodeFields(codec, body) ?? {};
  const size = input['MaxRecordSizeInKiB'];
  if (!isMaxRecordSize(size)) {
    sendError(response, 400, codec, 'ValidationException', maxRecordSizeMessage(String(size)));
    return;
  }
  const streamName = streamNameOf(input);
  if (streamName === undefined) {
    sendError(response, 400, codec, 'InvalidArgumentException', 'StreamARN is required.');
    return;
  }
  const described = await host.upstream.call('DescribeStreamSummary', { StreamName: streamName });
  if (described.status !== 200) {
    sendAnswer(response, codec, { status: described.status, body: JSON.parse(described.body.toString('utf8')) });
    return;
  }
  host.recordSizes.set(streamName, size);
  sendBody(response, 200, codec, {});
}

/** kinesalite's summary, with the fields it predates: MaxRecordSizeInKiB and the stream mode. */
export async function describeStreamSummaryRequest(host: RequestHost, call: LocalRequest): Promise<void> {
  const { response, body, codec } = call;
  const input = decodeFields(codec, body);
  if (input === undefined) return passThrough(host, 'DescribeStreamSummary', call);
  nameStreamByArn(input);
  const answer = await host.upstream.call('DescribeStreamSummary', input);
  const described = JSON.parse(answer.body.toString('utf8')) as {
    StreamDescriptionSummary?: Record<string, unknown>;
  };
  const summary = described.StreamDescriptionSummary;
  if (answer.status === 200 && summary !== undefined && typeof summary['StreamName'] === 'string') {
    summary['MaxRecordSizeInKiB'] ??= host.recordSizes.get(summary['StreamName']);
    summary['StreamModeDetails'] ??= { StreamMode: 'PROVISIONED' };
  }
  sendAnswer(response, codec, { status: answer.status, body: described });
}
