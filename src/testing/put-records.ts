import type { FaultPlan } from './faults.js';
import { KINESALITE_MAX_DATA_BYTES, type LargeRecordStore } from './large-records.js';
import type { Random } from './random.js';
import type { ShardLimiter } from './shard-limiter.js';
import { parseExplicitHashKey, partitionKeyHashKey, type ShardMap } from './shard-map.js';
import type { StatsRecorder } from './stats.js';
import { LOCAL_ACCOUNT_ID } from './stream-names.js';
import type { Upstream } from './upstream.js';

/** The service's request limit, which kinesalite does not check: data plus partition keys. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/**
 * The largest PutRecords body forwarded to kinesalite in one call: it refuses bodies over 7 MiB.
 * A larger request goes to it in several calls, one after the other, so each shard's sequence
 * numbers still follow the request's order.
 */
const KINESALITE_BODY_BYTES = 6 * 1024 * 1024;
/** JSON around one forwarded entry: field names, quotes, commas. */
const ENTRY_OVERHEAD_BYTES = 96;

/** What the write path needs from the server: everything is read at call time, so it may change. */
export interface WriteGate {
  readonly upstream: Upstream;
  readonly stats: StatsRecorder;
  readonly random: Random;
  /** Where the data of records over kinesalite's 1 MiB waits, replaced by a placeholder. */
  readonly largeRecords: LargeRecordStore;
  /** The stream's MaxRecordSizeInKiB in bytes: the most data plus partition key one record may hold. */
  maxRecordBytes(streamName: string): number;
  shardMap(streamName: string): Promise<ShardMap | undefined>;
  invalidateShardMap(streamName: string): void;
  /** The shard's limiter, or undefined when limits are off. */
  limiter(streamName: string, shardId: string): ShardLimiter | undefined;
  /** The faults to draw per-record failures from, or undefined when faults do not apply. */
  readonly faults: FaultPlan | undefined;
  now(): number;
}

/** A decoded write, the answer to send, in the client's encoding. */
export interface WriteAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** A record entry as a client sent it: Data is base64 text in JSON, bytes in CBOR. */
interface RecordEntry {
  PartitionKey: string;
  Data: string | Uint8Array;
  ExplicitHashKey?: string;
}

type RecordResult = { ShardId: string; SequenceNumber: string } | { ErrorCode: string; ErrorMessage: string };

/**
 * Answers PutRecords: draws injected per-record failures, takes each remaining record's allowance
 * from its shard's limiter, forwards the records that pass to kinesalite as one smaller
 * PutRecords, and merges the answers back in request order. Returns undefined when the request is
 * malformed in a way kinesalite should judge (the caller forwards it untouched).
 *
 * `jsonBody` is the request's own JSON, when it can go to kinesalite as it is: if every record
 * passes, it is forwarded instead of a re-serialised copy.
 */
export async function putRecords(gate: WriteGate, input: unknown, jsonBody?: Buffer): Promise<WriteAnswer | undefined> {
  const request = input as { StreamName?: unknown; Records?: unknown };
  if (typeof request.StreamName !== 'string' || !Array.isArray(request.Records)) return undefined;
  const streamName = request.StreamName;
  const entries = request.Records as unknown[];
  if (entries.length === 0 || entries.length > 500 || !entries.every(isRecordEntry)) return undefined;

  const sizes = entries.map(recordBytes);
  const sizeError = checkSizes(sizes, gate.maxRecordBytes(streamName));
  if (sizeError !== undefined) return sizeError;
  const map = await gate.shardMap(streamName);
  if (map === undefined) return undefined;
  const shardIds = predictShards(map, entries);
  if (shardIds === undefined) return undefined;

  const results = new Array<RecordResult>(entries.length);
  const forwarded: number[] = [];
  const now = gate.now();
  const faults = gate.faults;
  for (let i = 0; i < entries.length; i++) {
    const shardId = shardIds[i] as string;
    const bytes = sizes[i] as number;
    if (faults?.drawRecordFailure(gate.random)) {
      results[i] = { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' };
      gate.stats.failed(streamName, shardId);
    } else if (gate.limiter(streamName, shardId)?.tryTake(bytes, now) === false) {
      results[i] = { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: rateExceeded(streamName, shardId) };
      gate.stats.throttled(streamName, shardId, bytes);
    } else {
      forwarded.push(i);
    }
  }

  if (forwarded.length > 0) {
    const asSent =
      jsonBody !== undefined &&
      forwarded.length === entries.length &&
      jsonBody.length <= KINESALITE_BODY_BYTES &&
      sizes.every((size) => size <= KINESALITE_MAX_DATA_BYTES)
        ? jsonBody
        : undefined;
    const answer = await store(
      gate,
      streamName,
      forwarded.map((i) => entries[i] as RecordEntry),
      asSent,
    );
    if (!answer.ok) {
      for (const i of forwarded) gate.limiter(streamName, shardIds[i] as string)?.refund(sizes[i] as number);
      return { status: answer.status, body: answer.body };
    }
    const stored = answer.records;
    let stale = false;
    forwarded.forEach((i, k) => {
      const result = stored[k] as { ShardId: string; SequenceNumber: string };
      results[i] = { ShardId: result.ShardId, SequenceNumber: result.SequenceNumber };
      gate.stats.accepted(streamName, result.ShardId, sizes[i] as number);
      stale ||= result.ShardId !== shardIds[i];
    });
    if (stale) gate.invalidateShardMap(streamName);
  }
  gate.stats.live.putRecordsRequests++;
  return { status: 200, body: { FailedRecordCount: entries.length - forwarded.length, Records: results } };
}

/**
 * Answers PutRecord: an injected failure fails the whole request with HTTP 500, a record over its
 * shard's allowance with HTTP 400 ProvisionedThroughputExceededException; otherwise kinesalite
 * stores it. Returns undefined for requests kinesalite should judge.
 */
export async function putRecord(gate: WriteGate, input: unknown): Promise<WriteAnswer | undefined> {
  const streamName = (input as { StreamName?: unknown }).StreamName;
  const request = input;
  if (typeof streamName !== 'string' || !isRecordEntry(request)) return undefined;
  const bytes = recordBytes(request);
  const sizeError = checkSizes([bytes], gate.maxRecordBytes(streamName));
  if (sizeError !== undefined) return sizeError;
  const map = await gate.shardMap(streamName);
  if (map === undefined) return undefined;
  const shardId = predictShards(map, [request])?.[0];
  if (shardId === undefined) return undefined;

  if (gate.faults?.drawRecordFailure(gate.random)) {
    gate.stats.failed(streamName, shardId);
    return { status: 500, body: { __type: 'InternalFailure', message: 'Internal service failure.' } };
  }
  const limiter = gate.limiter(streamName, shardId);
  if (limiter?.tryTake(bytes, gate.now()) === false) {
    gate.stats.throttled(streamName, shardId, bytes);
    gate.stats.live.putRecordRequests++;
    return {
      status: 400,
      body: { __type: 'ProvisionedThroughputExceededException', message: rateExceeded(streamName, shardId) },
    };
  }
  const { SequenceNumberForOrdering } = input as { SequenceNumberForOrdering?: unknown };
  const answer = await gate.upstream.call('PutRecord', {
    StreamName: streamName,
    ...toStoredEntry(gate.largeRecords, request),
    ...(SequenceNumberForOrdering === undefined ? {} : { SequenceNumberForOrdering }),
  });
  const body = JSON.parse(answer.body.toString('utf8')) as { ShardId?: string };
  if (answer.status !== 200) {
    limiter?.refund(bytes);
    return { status: answer.status, body };
  }
  gate.stats.accepted(streamName, body.ShardId ?? shardId, bytes);
  gate.stats.live.putRecordRequests++;
  if (body.ShardId !== shardId) gate.invalidateShardMap(streamName);
  return { status: 200, body };
}

function isRecordEntry(entry: unknown): entry is RecordEntry {
  if (typeof entry !== 'object' || entry === null) return false;
  const { PartitionKey, Data, ExplicitHashKey } = entry as Partial<RecordEntry>;
  return (
    typeof PartitionKey === 'string' &&
    PartitionKey.length > 0 &&
    PartitionKey.length <= 256 &&
    (typeof Data === 'string' || Data instanceof Uint8Array) &&
    (ExplicitHashKey === undefined || typeof ExplicitHashKey === 'string')
  );
}

/** Data plus partition key bytes; base64 Data is measured without decoding it. */
function recordBytes(entry: RecordEntry): number {
  const { Data } = entry;
  const dataBytes =
    typeof Data === 'string' ? (Data.length / 4) * 3 - (Data.endsWith('==') ? 2 : Data.endsWith('=') ? 1 : 0) : Data.byteLength;
  return dataBytes + Buffer.byteLength(entry.PartitionKey, 'utf8');
}

type StoreAnswer =
  | { readonly ok: true; readonly records: Array<{ ShardId: string; SequenceNumber: string }> }
  | { readonly ok: false; readonly status: number; readonly body: unknown };

/**
 * Has kinesalite store `entries` of one stream, in order: in one call as `asSent` when given,
 * else in calls whose bodies stay under kinesalite's limit, each record larger than kinesalite
 * takes replaced by a placeholder. A failed call ends it, with the records before it stored.
 */
async function store(
  gate: WriteGate,
  streamName: string,
  entries: readonly RecordEntry[],
  asSent: Buffer | undefined,
): Promise<StoreAnswer> {
  if (asSent !== undefined) return storedAnswer(await gate.upstream.callWithBody('PutRecords', asSent), []);
  const records: Array<{ ShardId: string; SequenceNumber: string }> = [];
  let chunk: RecordEntry[] = [];
  let chunkBytes = 0;
  for (let i = 0; i <= entries.length; i++) {
    const entry = i < entries.length ? toStoredEntry(gate.largeRecords, entries[i] as RecordEntry) : undefined;
    const entryBytes = entry === undefined ? 0 : jsonEntryBytes(entry);
    if (chunk.length > 0 && (entry === undefined || chunkBytes + entryBytes > KINESALITE_BODY_BYTES)) {
      const answer = storedAnswer(await gate.upstream.call('PutRecords', { StreamName: streamName, Records: chunk }), records);
      if (!answer.ok) return answer;
      chunk = [];
      chunkBytes = 0;
    }
    if (entry !== undefined) {
      chunk.push(entry);
      chunkBytes += entryBytes;
    }
  }
  return { ok: true, records };
}

function storedAnswer(answer: { status: number; body: Buffer }, records: Array<{ ShardId: string; SequenceNumber: string }>): StoreAnswer {
  const body = JSON.parse(answer.body.toString('utf8')) as { Records: Array<{ ShardId: string; SequenceNumber: string }> };
  if (answer.status !== 200) return { ok: false, status: answer.status, body };
  records.push(...body.Records);
  return { ok: true, records };
}

function jsonEntryBytes(entry: RecordEntry): number {
  return (entry.Data as string).length + entry.PartitionKey.length * 6 + (entry.ExplicitHashKey?.length ?? 0) + ENTRY_OVERHEAD_BYTES;
}

/** The entry as kinesalite takes it: base64 Data, with data over its limit stashed behind a placeholder. */
function toStoredEntry(largeRecords: LargeRecordStore, entry: RecordEntry): RecordEntry {
  const json = toJsonEntry(entry);
  const data = json.Data as string;
  if ((data.length / 4) * 3 - 2 <= KINESALITE_MAX_DATA_BYTES) return json;
  const placeholder = largeRecords.stash(Buffer.from(data, 'base64'));
  return json.ExplicitHashKey === undefined
    ? { PartitionKey: json.PartitionKey, Data: placeholder }
    : { PartitionKey: json.PartitionKey, Data: placeholder, ExplicitHashKey: json.ExplicitHashKey };
}

function checkSizes(sizes: readonly number[], maxRecordBytes: number): WriteAnswer | undefined {
  let total = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i] as number;
    if (size > maxRecordBytes) {
      return invalidArgument(
        `Record ${i} is ${size.toLocaleString('en-US')} bytes with its partition key; the limit is ${maxRecordBytes.toLocaleString('en-US')} (the stream's MaxRecordSizeInKiB).`,
      );
    }
    total += size;
  }
  if (total > MAX_REQUEST_BYTES) {
    return invalidArgument(
      `The request holds ${total.toLocaleString('en-US')} bytes of data and partition keys; the limit is ${MAX_REQUEST_BYTES.toLocaleString('en-US')}.`,
    );
  }
  return undefined;
}

function invalidArgument(message: string): WriteAnswer {
  return { status: 400, body: { __type: 'InvalidArgumentException', message } };
}

/** Each entry's shard, or undefined if an ExplicitHashKey is invalid (kinesalite words that error). */
function predictShards(map: ShardMap, entries: readonly RecordEntry[]): string[] | undefined {
  const shardIds = new Array<string>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as RecordEntry;
    const hashKey =
      entry.ExplicitHashKey === undefined ? partitionKeyHashKey(entry.PartitionKey) : parseExplicitHashKey(entry.ExplicitHashKey);
    const shardId = hashKey === undefined ? undefined : map.shardFor(hashKey);
    if (shardId === undefined) return undefined;
    shardIds[i] = shardId;
  }
  return shardIds;
}

function toJsonEntry(entry: RecordEntry): RecordEntry {
  if (typeof entry.Data === 'string') return entry;
  const data = Buffer.from(entry.Data.buffer, entry.Data.byteOffset, entry.Data.byteLength).toString('base64');
  return entry.ExplicitHashKey === undefined
    ? { PartitionKey: entry.PartitionKey, Data: data }
    : { PartitionKey: entry.PartitionKey, Data: data, ExplicitHashKey: entry.ExplicitHashKey };
}

function rateExceeded(streamName: string, shardId: string): string {
  return `Rate exceeded for shard ${shardId} in stream ${streamName} under account ${LOCAL_ACCOUNT_ID}.`;
}
