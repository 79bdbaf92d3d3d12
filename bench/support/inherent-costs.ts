/**
 * What every producer of this format must compute per user record when it sends through the AWS
 * SDK, measured on the real bytes: the MD5 of the partition key (to predict the shard), its share
 * of the aggregate's MD5 trailer, its share of the base64 text PutRecords carries, and its share of
 * the SHA-256 that SigV4 takes of the request body. Added to the promise-only floor, they give the
 * most records per second any implementation of the pipeline could reach on this machine.
 */
import * as crypto from 'node:crypto';
import { AggregateBuilder, type KinesisRecord } from '../../src/format/aggregated-record.js';
import { md5Utf8 } from '../../src/format/md5.js';
import { encodePutRecordsBody } from '../../src/format/put-records-body.js';
import { median } from './median.js';

/** Microseconds per user record of each unavoidable computation. */
export interface InherentCosts {
  readonly keyMd5: number;
  readonly md5Trailer: number;
  readonly base64: number;
  readonly sigV4Sha256: number;
}

/** The KPL default aggregationMaxSize and a full PutRecords body, as the pipeline bench's producer uses. */
const AGGREGATE_BYTES = 51_200;
const BODY_BYTES = 5 * 1024 * 1024;
/** What an aggregate's ExplicitHashKey usually looks like: a random 128-bit key has 38 or 39 digits. */
const TYPICAL_EXPLICIT_HASH_KEY = '1'.repeat(38);

/** Measures {@link InherentCosts} for records of `recordBytes` with the given distinct keys. */
export function measureInherentCosts(keys: readonly string[], recordBytes: number): InherentCosts {
  const data = new Uint8Array(recordBytes).fill(0x61);
  const hashKey = new Uint32Array(4);
  const aggregates: Uint8Array[] = [];
  let aggregatedRecords = 0;
  const builder = new AggregateBuilder();
  for (const key of keys) {
    if (builder.tryAdd(key, undefined, data, AGGREGATE_BYTES)) continue;
    aggregatedRecords += builder.count;
    aggregates.push(builder.finish(hashKey, 0).data);
    builder.tryAdd(key, undefined, data, AGGREGATE_BYTES);
  }
  const bodies: Buffer[] = [];
  for (let start = 0; start < aggregates.length;) {
    const entries: KinesisRecord[] = [];
    let bytes = 0;
    for (; start < aggregates.length && entries.length < 500; start++) {
      const aggregate = aggregates[start] as Uint8Array;
      if (entries.length > 0 && bytes + aggregate.length > BODY_BYTES) break;
      bytes += aggregate.length;
      entries.push({ partitionKey: 'a', explicitHashKey: TYPICAL_EXPLICIT_HASH_KEY, data: aggregate });
    }
    bodies.push(encodePutRecordsBody({ StreamName: 'bench' }, entries));
  }
  return {
    keyMd5: microsecondsEach(keys.length, () => {
      for (const key of keys) md5Utf8(key, hashKey, 0);
    }),
    md5Trailer: microsecondsEach(aggregatedRecords, () => {
      for (const aggregate of aggregates) crypto.hash('md5', aggregate.subarray(4, aggregate.length - 16), 'binary');
    }),
    base64: microsecondsEach(aggregatedRecords, () => {
      for (const aggregate of aggregates) Buffer.from(aggregate.buffer, aggregate.byteOffset, aggregate.length).toString('base64');
    }),
    sigV4Sha256: microsecondsEach(aggregatedRecords, () => {
      for (const body of bodies) crypto.createHash('sha256').update(body).digest('hex');
    }),
  };
}

/** Microseconds per item of `run`, which handles `items` items: the median of five timed rounds after one warm-up. */
function microsecondsEach(items: number, run: () => void): number {
  run();
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    run();
    rounds.push(performance.now() - started);
  }
  return (median(rounds) * 1000) / items;
}
