/** Where one Kinesis record of a PutRecords request landed, or why it did not. */
export type RecordOutcome =
  { shardId: string; sequenceNumber: string; errorCode?: undefined } | { errorCode: string; errorMessage: string };

/** One entry of a PutRecords response's `Records`, as the service writes it (and as the SDK types it). */
export interface PutRecordsResultFields {
  readonly ShardId?: unknown;
  readonly SequenceNumber?: unknown;
  readonly ErrorCode?: unknown;
  readonly ErrorMessage?: unknown;
}

const UTF8 = new TextDecoder();

/**
 * The outcomes of a successful (HTTP 200) PutRecords response's body, one per record sent, in the
 * order sent; undefined when the body is not a JSON object with a `Records` array.
 *
 * Why not the SDK's deserialiser: it walks the output schema for every entry, and its logger walks
 * the output again to redact it, about 3 µs an entry here against a fraction of that for
 * `JSON.parse`. With thousands of shards a request carries 500 small aggregates, so that walk cost
 * more per user record than anything else a response does.
 */
export function parsePutRecordsResponse(body: Uint8Array, recordsSent: number): RecordOutcome[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(body));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const results = (parsed as { Records?: unknown }).Records;
  if (!Array.isArray(results)) return undefined;
  return recordOutcomes(results as ReadonlyArray<PutRecordsResultFields | undefined>, recordsSent);
}

/** One outcome per record sent, from a response's entries: entries missing or malformed fail as InternalFailure. */
export function recordOutcomes(results: ReadonlyArray<PutRecordsResultFields | undefined>, recordsSent: number): RecordOutcome[] {
  const outcomes = new Array<RecordOutcome>(recordsSent);
  for (let i = 0; i < recordsSent; i++) outcomes[i] = recordOutcome(results[i]);
  return outcomes;
}

function recordOutcome(result: PutRecordsResultFields | undefined): RecordOutcome {
  if (typeof result !== 'object' || result === null) {
    return { errorCode: 'InternalFailure', errorMessage: 'PutRecords answered with fewer results than records sent' };
  }
  const errorCode = result.ErrorCode;
  if (typeof errorCode === 'string' && errorCode !== '') {
    return { errorCode, errorMessage: typeof result.ErrorMessage === 'string' ? result.ErrorMessage : errorCode };
  }
  const { ShardId: shardId, SequenceNumber: sequenceNumber } = result;
  if (typeof shardId !== 'string' || typeof sequenceNumber !== 'string') {
    return {
      errorCode: 'InternalFailure',
      errorMessage: 'PutRecords answered a record with neither an error nor a shard and sequence number',
    };
  }
  return { shardId, sequenceNumber };
}
