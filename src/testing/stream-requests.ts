import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { LargeRecordStore } from './large-records.js';
import { checkStreamSpec, isMaxRecordSize } from './local-kinesis-options.js';
import { listShardsCursor, listShardsPage } from './list-shards.js';
import type { RecordSizes } from './record-size-requests.js';
import { decodeFields, maxRecordSizeMessage, nameStreamByArn } from './request-fields.js';
import { sendAnswer, upstreamError } from './server-support.js';
import { listShards } from './shard-maps.js';
import { streamNameOf } from './stream-names.js';
import type { Upstream } from './upstream.js';
import { AMZ_JSON, type BodyCodec, sendBody, sendError } from './wire.js';

/** What the request handlers need of the server. */
export interface RequestHost {
  /** kinesalite, which stores the streams and records. */
  readonly upstream: Upstream;
  /** Each stream's MaxRecordSizeInKiB. */
  readonly recordSizes: RecordSizes;
  /** Records over kinesalite's size limit, kept here. */
  readonly largeRecords: LargeRecordStore;
  /** Drops what the server knows of a stream's shards after `operation` reshaped them. */
  forgetShards(operation: string, streamName: string): void;
}

/** One request to answer: the message, its answer, its body and the codec of both. */
export interface LocalRequest {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly body: Buffer;
  readonly codec: BodyCodec;
}

/** Operations after which a stream's shards are different. */
const RESHAPING = new Set(['CreateStream', 'DeleteStream', 'SplitShard', 'MergeShards', 'UpdateShardCount']);
/** Requests other than writes are small; larger bodies are forwarded without a look inside. */
const SMALL_BODY_BYTES = 64 * 1024;
const UNFORWARDED_ANSWER_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding']);
const ACTIVE_WAIT_MS = 30_000;

/**
 * Creates a stream in kinesalite and resolves once it is ACTIVE, polling every 10 ms with `sleep`.
 * @throws Error when kinesalite refuses it (it exists, or the shard limit is reached) or it stays inactive for 30 s.
 */
export async function createStreamAndWait(
  host: RequestHost,
  name: string,
  shards: number,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  checkStreamSpec(name, shards);
  const created = await host.upstream.call('CreateStream', { StreamName: name, ShardCount: shards });
  if (created.status !== 200) throw upstreamError('CreateStream', name, created.body);
  host.forgetShards('CreateStream', name);
  const deadline = Date.now() + ACTIVE_WAIT_MS;
  for (;;) {
    const described = await host.upstream.call('DescribeStreamSummary', { StreamName: name });
    if (described.status !== 200) throw upstreamError('DescribeStreamSummary', name, described.body);
    const { StreamDescriptionSummary } = JSON.parse(described.body.toString('utf8')) as {
      StreamDescriptionSummary: { StreamStatus: string };
    };
    if (StreamDescriptionSummary.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new Error(`stream ${name} is still ${StreamDescriptionSummary.StreamStatus} after ${ACTIVE_WAIT_MS} ms`);
    }
    await sleep(10);
  }
}

/** CreateStream, with MaxRecordSizeInKiB taken here since kinesalite does not know it. */
export async function createStreamRequest(host: RequestHost, call: LocalRequest): Promise<void> {
  const { response, body, codec } = call;
  const input = decodeFields(codec, body);
  const size = input?.['MaxRecordSizeInKiB'];
  if (input === undefined || size === undefined) return passThrough(host, 'CreateStream', call);
  if (!isMaxRecordSize(size)) {
    sendError(response, 400, codec, 'ValidationException', maxRecordSizeMessage(JSON.stringify(size)));
    return;
  }
  delete input['MaxRecordSizeInKiB'];
  const streamName = streamNameOf(input);
  const answer = await host.upstream.call('CreateStream', input);
  if (streamName !== undefined) {
    host.forgetShards('CreateStream', streamName);
    if (answer.status === 200) host.recordSizes.set(streamName, size);
  }
  sendAnswer(response, codec, { status: answer.status, body: answer.body.length === 0 ? {} : JSON.parse(answer.body.toString('utf8')) });
}

/** ListShards, paged and filtered here (ShardFilter, StreamARN), which kinesalite does not do. */
export async function listShardsRequest(host: RequestHost, call: LocalRequest): Promise<void> {
  const { response, body, codec } = call;
  const input = decodeFields(codec, body);
  if (input === undefined) return passThrough(host, 'ListShards', call);
  nameStreamByArn(input);
  const cursor = listShardsCursor(input);
  if (typeof cursor === 'string') {
    sendError(response, 400, codec, 'InvalidArgumentException', cursor);
    return;
  }
  const listing = await listShards(host.upstream, cursor.streamName);
  if (!listing.found) {
    sendAnswer(response, codec, { status: listing.status, body: JSON.parse(listing.body.toString('utf8')) });
    return;
  }
  const page = listShardsPage(listing.shards, cursor, input.MaxResults);
  if (page.ok) sendBody(response, 200, codec, page.body);
  else sendError(response, 400, codec, 'InvalidArgumentException', page.message);
}

/** GetRecords once records over kinesalite's limit are stored: their placeholders get their data back. */
export async function getRecordsRequest(host: RequestHost, call: LocalRequest): Promise<void> {
  const { response, body, codec } = call;
  const input = decodeFields(codec, body);
  if (input === undefined) return passThrough(host, 'GetRecords', call);
  const answer = await host.upstream.call('GetRecords', input);
  const records = JSON.parse(answer.body.toString('utf8')) as { Records?: Array<{ Data?: unknown }> };
  if (answer.status === 200) {
    host.largeRecords.restore(records);
    if (codec.contentType !== AMZ_JSON) {
      for (const record of records.Records ?? []) {
        if (typeof record.Data === 'string') record.Data = Buffer.from(record.Data, 'base64');
      }
    }
  }
  sendAnswer(response, codec, { status: answer.status, body: records });
}

/**
 * Forwards a request to kinesalite and streams its answer back: a StreamARN is replaced by the name
 * it gives, and an operation that reshapes a stream (CreateStream, UpdateShardCount...) drops what
 * the server knows of its shards.
 */
export async function passThrough(host: RequestHost, operation: string, call: LocalRequest, body = call.body): Promise<void> {
  const { request, response, codec } = call;
  let forwarded = body;
  let streamName: string | undefined;
  const mayNameByArn = body.length < SMALL_BODY_BYTES && body.includes('StreamARN');
  if (RESHAPING.has(operation) || mayNameByArn) {
    const input = decodeFields(codec, body);
    if (input !== undefined) {
      streamName = streamNameOf(input);
      if (nameStreamByArn(input)) forwarded = codec.encode(input);
    }
  }
  const answer = await host.upstream.forward(request.method ?? 'POST', request.url ?? '/', request.headers, forwarded);
  if (streamName !== undefined && RESHAPING.has(operation)) host.forgetShards(operation, streamName);
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined && !UNFORWARDED_ANSWER_HEADERS.has(name)) headers[name] = value;
  }
  response.writeHead(answer.statusCode ?? 500, headers);
  pipeline(answer, response, () => undefined);
}
