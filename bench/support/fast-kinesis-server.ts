/**
 * A Kinesis endpoint for benchmarks that stores nothing and answers as fast as it can, so that the
 * producer, not the server, is what a benchmark measures. Every stream name exists and is ACTIVE,
 * with `shards` open shards over evenly split hash key ranges. PutRecords succeeds for every record,
 * with the ShardId its hash key maps to and increasing sequence numbers.
 *
 * PutRecords bodies are scanned, not parsed: the base64 Data, almost all of the bytes, is skipped
 * with memchr-speed `indexOf`, and only partition keys and explicit hash keys are read.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HASH_KEY_WORDS, hashPartitionKey, parseHashKey } from '../../src/format/hash-key.js';

/** Options of {@link createFastKinesisServer}. */
export interface FastKinesisOptions {
  /** Open shards of every stream, from 1 to 1,048,576. */
  readonly shards: number;
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
}

/** What the server has answered since it started. */
export interface FastKinesisCounts {
  requests: number;
  putRecordsRequests: number;
  /** Kinesis records acknowledged, by PutRecords and PutRecord. */
  records: number;
  /** Request body bytes of PutRecords and PutRecord. */
  bodyBytes: number;
}

/** A running fast endpoint in this process. */
export interface FastKinesisServer {
  readonly endpoint: string;
  readonly counts: FastKinesisCounts;
  close(): Promise<void>;
}

const MAX_SHARDS = 1 << 20;
const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_128 = 1n << 128n;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const AMZ_JSON = 'application/x-amz-json-1.1';
/** Sequence numbers are 56 digits, as the service's are: a fixed head and a counter. */
const SEQUENCE_HEAD = '4963'.padEnd(36, '0');
const STARTED_AT_SECONDS = Math.floor(Date.now() / 1000);

interface ShardLayout {
  readonly count: number;
  readonly shardIds: readonly string[];
  /** Each shard's ListShards JSON, serialised once. */
  readonly shardJson: readonly string[];
}

/** Starts the endpoint on 127.0.0.1. */
export async function createFastKinesisServer(options: FastKinesisOptions): Promise<FastKinesisServer> {
  const layout = shardLayout(options.shards);
  const counts: FastKinesisCounts = { requests: 0, putRecordsRequests: 0, records: 0, bodyBytes: 0 };
  const sequence = { next: 0 };
  const server = http.createServer({ keepAliveTimeout: 120_000 }, (request, response) => {
    readWhole(request, (body) => answer(request, response, body, layout, counts, sequence));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Evenly split ranges where shard i owns the keys k with floor(k * count / 2^128) = i, so a key's
 * shard is computed, not searched. Starts are ceil(i * 2^128 / count).
 */
function shardLayout(count: number): ShardLayout {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) {
    throw new RangeError(`shards must be an integer from 1 to ${MAX_SHARDS}, got ${String(count)}`);
  }
  const big = BigInt(count);
  const start = (i: number): bigint => (BigInt(i) * TWO_POW_128 + big - 1n) / big;
  const shardIds: string[] = [];
  const shardJson: string[] = [];
  for (let i = 0; i < count; i++) {
    const shardId = `shardId-${String(i).padStart(12, '0')}`;
    shardIds.push(shardId);
    shardJson.push(
      JSON.stringify({
        ShardId: shardId,
        HashKeyRange: { StartingHashKey: start(i).toString(), EndingHashKey: (start(i + 1) - 1n).toString() },
        SequenceNumberRange: { StartingSequenceNumber: `${SEQUENCE_HEAD}${'0'.repeat(20)}` },
      }),
    );
  }
  return { count, shardIds, shardJson };
}

const hashKey = new Uint32Array(HASH_KEY_WORDS);

/** floor(hashKey * count / 2^128), exact in doubles while count < 2^21. */
function shardIndexOfHashKey(count: number): number {
  let x = (hashKey[3] as number) * count;
  let carry = Math.floor(x / TWO_POW_32);
  x = (hashKey[2] as number) * count + carry;
  carry = Math.floor(x / TWO_POW_32);
  x = (hashKey[1] as number) * count + carry;
  carry = Math.floor(x / TWO_POW_32);
  x = (hashKey[0] as number) * count + carry;
  return Math.floor(x / TWO_POW_32);
}

function shardIndexOf(partitionKey: string, explicitHashKey: string | undefined, count: number): number {
  if (explicitHashKey === undefined) hashPartitionKey(partitionKey, hashKey, 0);
  else if (!parseHashKey(explicitHashKey, hashKey, 0)) return -1;
  return shardIndexOfHashKey(count);
}

function nextSequenceNumber(sequence: { next: number }): string {
  return SEQUENCE_HEAD + String(sequence.next++).padStart(20, '0');
}

function readWhole(request: IncomingMessage, then: (body: Buffer) => void): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isSafeInteger(declared) && declared >= 0) {
    const body = Buffer.allocUnsafe(declared);
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.copy(body, length);
    });
    request.on('end', () => then(length === declared ? body : body.subarray(0, length)));
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => then(Buffer.concat(chunks)));
}

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
  layout: ShardLayout,
  counts: FastKinesisCounts,
  sequence: { next: number },
): void {
  counts.requests++;
  const target = request.headers['x-amz-target'];
  const operation = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : '';
  switch (operation) {
    case 'PutRecords': {
      const shards = scanPutRecords(body, layout.count) ?? parsePutRecords(body, layout.count);
      if (shards === undefined || shards.some((index) => index < 0)) {
        return sendError(response, 'InvalidArgumentException', 'PutRecords body or an ExplicitHashKey is invalid.');
      }
      counts.putRecordsRequests++;
      counts.records += shards.length;
      counts.bodyBytes += body.length;
      let json = '{"FailedRecordCount":0,"Records":[';
      for (let i = 0; i < shards.length; i++) {
        json += `${i === 0 ? '' : ','}{"SequenceNumber":"${nextSequenceNumber(sequence)}","ShardId":"${layout.shardIds[shards[i] as number]}"}`;
      }
      return send(response, `${json}]}`);
    }
    case 'PutRecord': {
      const input = parseJson(body) as { PartitionKey?: string; ExplicitHashKey?: string } | undefined;
      const index = typeof input?.PartitionKey === 'string' ? shardIndexOf(input.PartitionKey, input.ExplicitHashKey, layout.count) : -1;
      if (index < 0) return sendError(response, 'InvalidArgumentException', 'PutRecord body or its ExplicitHashKey is invalid.');
      counts.records++;
      counts.bodyBytes += body.length;
      return send(response, JSON.stringify({ ShardId: layout.shardIds[index], SequenceNumber: nextSequenceNumber(sequence) }));
    }
    case 'ListShards':
      return listShards(response, parseJson(body), layout);
    case 'DescribeStreamSummary':
      return send(response, JSON.stringify({ StreamDescriptionSummary: summary(parseJson(body), layout) }));
    case 'DescribeStream':
      return describeStream(response, parseJson(body), layout);
    case 'ListStreams':
      return send(response, '{"StreamNames":[],"HasMoreStreams":false}');
    case 'CreateStream':
    case 'DeleteStream':
      return send(response, '{}');
    default:
      return sendError(response, 'UnknownOperationException', `fast-kinesis does not answer ${operation || 'this request'}.`);
  }
}

/**
 * Each record's shard index, from a walk over the JSON's strings. Returns undefined on any shape
 * it does not expect, and the caller parses the body instead.
 */
function scanPutRecords(body: Buffer, count: number): number[] | undefined {
  let position = body.indexOf('"Records"');
  if (position === -1) return undefined;
  position = skipSpace(body, position + 9);
  if (body[position] !== 0x3a /* : */) return undefined;
  position = skipSpace(body, position + 1);
  if (body[position] !== 0x5b /* [ */) return undefined;
  position = skipSpace(body, position + 1);
  const shards: number[] = [];
  if (body[position] === 0x5d /* ] */) return shards;
  for (;;) {
    if (body[position] !== 0x7b /* { */) return undefined;
    position++;
    let partitionKey: string | undefined;
    let explicitHashKey: string | undefined;
    for (;;) {
      position = skipSpace(body, position);
      if (body[position] !== QUOTE) return undefined;
      const keyEnd = stringEnd(body, position + 1);
      if (keyEnd === -1) return undefined;
      const keyLength = keyEnd - position - 1;
      const keyFirst = body[position + 1];
      position = skipSpace(body, keyEnd + 1);
      if (body[position] !== 0x3a /* : */) return undefined;
      position = skipSpace(body, position + 1);
      if (body[position] === QUOTE) {
        const valueEnd = stringEnd(body, position + 1);
        if (valueEnd === -1) return undefined;
        if (keyFirst === 0x50 /* P */ && keyLength === 12) partitionKey = readString(body, position, valueEnd);
        else if (keyFirst === 0x45 /* E */ && keyLength === 15) explicitHashKey = readString(body, position, valueEnd);
        position = valueEnd + 1;
      } else {
        // A non-string value (null from a hand-written client): skip to the next separator.
        while (position < body.length && body[position] !== 0x2c && body[position] !== 0x7d) position++;
      }
      position = skipSpace(body, position);
      if (body[position] === 0x2c /* , */) {
        position++;
        continue;
      }
      if (body[position] === 0x7d /* } */) break;
      return undefined;
    }
    if (partitionKey === undefined) return undefined;
    shards.push(shardIndexOf(partitionKey, explicitHashKey, count));
    position = skipSpace(body, position + 1);
    if (body[position] === 0x2c /* , */) {
      position = skipSpace(body, position + 1);
      continue;
    }
    if (body[position] === 0x5d /* ] */) return shards;
    return undefined;
  }
}

function parsePutRecords(body: Buffer, count: number): number[] | undefined {
  const input = parseJson(body) as { Records?: Array<{ PartitionKey?: string; ExplicitHashKey?: string }> } | undefined;
  if (!Array.isArray(input?.Records)) return undefined;
  return input.Records.map((record) =>
    typeof record.PartitionKey === 'string' ? shardIndexOf(record.PartitionKey, record.ExplicitHashKey, count) : -1,
  );
}

/** Index of the quote closing a string whose content starts at `from`, or -1. */
function stringEnd(body: Buffer, from: number): number {
  let quote = body.indexOf(QUOTE, from);
  while (quote !== -1) {
    let backslashes = 0;
    for (let i = quote - 1; i >= from && body[i] === BACKSLASH; i--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    quote = body.indexOf(QUOTE, quote + 1);
  }
  return -1;
}

/** The string between the quotes at `open` and `close`, unescaped. */
function readString(body: Buffer, open: number, close: number): string {
  // A scan, not indexOf: indexOf would search on to the end of a body that has no backslash.
  for (let i = open + 1; i < close; i++) {
    if (body[i] === BACKSLASH) return JSON.parse(body.toString('utf8', open, close + 1)) as string;
  }
  return body.toString('utf8', open + 1, close);
}

function skipSpace(body: Buffer, from: number): number {
  let position = from;
  for (;;) {
    const byte = body[position];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return position;
    position++;
  }
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function streamNameIn(input: Record<string, unknown> | undefined): string {
  if (typeof input?.['StreamName'] === 'string') return input['StreamName'];
  const arn = input?.['StreamARN'];
  return typeof arn === 'string' ? arn.slice(arn.lastIndexOf('/') + 1) : 'fast-kinesis';
}

function summary(input: Record<string, unknown> | undefined, layout: ShardLayout): object {
  const streamName = streamNameIn(input);
  return {
    StreamName: streamName,
    StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`,
    StreamStatus: 'ACTIVE',
    StreamModeDetails: { StreamMode: 'PROVISIONED' },
    RetentionPeriodHours: 24,
    StreamCreationTimestamp: STARTED_AT_SECONDS,
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    EncryptionType: 'NONE',
    OpenShardCount: layout.count,
    ConsumerCount: 0,
  };
}

/** Index of the first shard after `shardId`, for ExclusiveStartShardId and AFTER_SHARD_ID. */
function firstAfter(shardId: unknown, layout: ShardLayout): number {
  if (typeof shardId !== 'string') return 0;
  const index = Number(shardId.slice(shardId.lastIndexOf('-') + 1));
  return Number.isInteger(index) ? Math.min(layout.count, Math.max(0, index + 1)) : 0;
}

function listShards(response: ServerResponse, input: Record<string, unknown> | undefined, layout: ShardLayout): void {
  const maxResults = input?.['MaxResults'] ?? 1000;
  if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10_000) {
    return sendError(response, 'InvalidArgumentException', `MaxResults must be from 1 to 10000, got ${JSON.stringify(maxResults)}.`);
  }
  let from: number;
  const token = input?.['NextToken'];
  if (typeof token === 'string') {
    if (input?.['StreamName'] !== undefined) {
      return sendError(response, 'InvalidArgumentException', 'NextToken and StreamName cannot be provided together.');
    }
    from = Number(token.slice('fast-kinesis:'.length));
    if (!token.startsWith('fast-kinesis:') || !Number.isInteger(from)) {
      return sendError(response, 'InvalidArgumentException', `NextToken ${token} is not valid.`);
    }
  } else {
    const filter = input?.['ShardFilter'] as { Type?: string; ShardId?: string } | undefined;
    from = firstAfter(filter?.Type === 'AFTER_SHARD_ID' ? filter.ShardId : input?.['ExclusiveStartShardId'], layout);
  }
  const end = Math.min(layout.count, from + maxResults);
  const page = layout.shardJson.slice(from, end).join(',');
  send(response, `{"Shards":[${page}]${end < layout.count ? `,"NextToken":"fast-kinesis:${end}"` : ''}}`);
}

function describeStream(response: ServerResponse, input: Record<string, unknown> | undefined, layout: ShardLayout): void {
  const limit = typeof input?.['Limit'] === 'number' ? Math.min(10_000, Math.max(1, input['Limit'])) : 100;
  const from = firstAfter(input?.['ExclusiveStartShardId'], layout);
  const end = Math.min(layout.count, from + limit);
  const { OpenShardCount: _open, ConsumerCount: _consumers, ...description } = summary(input, layout) as Record<string, unknown>;
  const head = JSON.stringify({ ...description, HasMoreShards: end < layout.count }).slice(0, -1);
  send(response, `{"StreamDescription":${head},"Shards":[${layout.shardJson.slice(from, end).join(',')}]}}`);
}

function send(response: ServerResponse, json: string): void {
  response.writeHead(200, { 'content-type': AMZ_JSON, 'content-length': Buffer.byteLength(json) });
  response.end(json);
}

function sendError(response: ServerResponse, code: string, message: string): void {
  const json = JSON.stringify({ __type: code, message });
  response.writeHead(400, {
    'content-type': AMZ_JSON,
    'content-length': Buffer.byteLength(json),
    'x-amzn-errortype': code,
  });
  response.end(json);
}
