import { setTimeout as sleep } from 'node:timers/promises';
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { MAX_RECORDS_PER_PUT_RECORDS } from '../../format/limits.js';
import { describeKinesisError } from '../../pipeline/kinesis-client.js';
import { LatencyRecorder } from './latency.js';
import { DeliveredSet, type LoadHooks, type LoadResult, RunMonitor } from './load-result.js';
import type { RecordFactory, Workload } from './workload.js';

/** What plain PutRecords did, counted by the loop itself. */
export interface PlainLoadResult extends LoadResult {
  readonly requests: number;
  /** Kinesis records stored: one per user record, nothing is aggregated. */
  readonly kinesisRecordsPut: number;
  /** Data plus partition key bytes stored. */
  readonly kinesisBytesPut: number;
  /** Records answered ProvisionedThroughputExceededException, counted per attempt. */
  readonly throttled: number;
  /** Record attempts: stored plus failed, per attempt. */
  readonly attempts: number;
}

interface Entry {
  readonly index: number;
  readonly entry: PutRecordsRequestEntry;
  readonly addedAt: number;
  retries: number;
  dueAt: number;
}

const RECORD_TTL_MS = 30_000;
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * The baseline that the producer is compared with: the SDK's PutRecords as an application would
 * call it without a producer library. Up to 500 records a request, one user record per Kinesis
 * record, `concurrency` requests in flight, failed records retried with exponential backoff and
 * jitter until 30 s have passed. Each shard then takes at most 1,000 records/s, whatever their size.
 */
export async function runPlainLoad(
  client: KinesisClient,
  streamName: string,
  factory: RecordFactory,
  workload: Workload,
  concurrency: number,
  hooks: LoadHooks = {},
  keepIndices = false,
): Promise<PlainLoadResult> {
  const latency = new LatencyRecorder();
  const failuresByCode: Record<string, number> = {};
  const delivered = new DeliveredSet(keepIndices && factory.marked);
  let retries: Entry[] = [];
  const limit = workload.records ?? Infinity;
  let offered = 0;
  let outstanding = 0;
  let failed = 0;
  let deliveredBytes = 0;
  let requests = 0;
  let kinesisBytesPut = 0;
  let throttled = 0;
  let attempts = 0;
  const start = performance.now();
  const progress = () => ({ elapsedMs: performance.now() - start, offered, delivered: delivered.count, failed });
  const monitor = new RunMonitor(() => hooks.onProgress?.(progress()));

  const offering = (): boolean => {
    if (offered >= limit || hooks.signal?.aborted === true) return false;
    return workload.durationMs === undefined || performance.now() - start < workload.durationMs;
  };
  const takeBatch = (): Entry[] => {
    const now = performance.now();
    const batch: Entry[] = [];
    if (retries.length > 0) {
      const waiting: Entry[] = [];
      for (const entry of retries) {
        if (entry.dueAt <= now && batch.length < MAX_RECORDS_PER_PUT_RECORDS) batch.push(entry);
        else waiting.push(entry);
      }
      retries = waiting;
    }
    if (!offering()) return batch;
    const due = workload.rate === undefined ? limit : Math.min(limit, Math.floor((workload.rate * (now - start)) / 1000) + 1);
    while (batch.length < MAX_RECORDS_PER_PUT_RECORDS && offered < due && outstanding < workload.maxOutstandingRecords) {
      const index = offered++;
      const record = factory.create(index);
      outstanding++;
      batch.push({
        index,
        entry: { PartitionKey: record.partitionKey, Data: record.data as Uint8Array },
        addedAt: now,
        retries: 0,
        dueAt: now,
      });
    }
    return batch;
  };
  const fail = (code: string): void => {
    outstanding--;
    failed++;
    failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
  };
  const retry = (entry: Entry, code: string): void => {
    const now = performance.now();
    if (now - entry.addedAt > RECORD_TTL_MS) {
      fail(code);
      return;
    }
    entry.retries++;
    entry.dueAt = now + Math.random() * Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (entry.retries - 1));
    retries.push(entry);
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const batch = takeBatch();
      if (batch.length === 0) {
        if (!offering() && outstanding === 0) return;
        await sleep(5);
        continue;
      }
      requests++;
      attempts += batch.length;
      try {
        const answer = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: batch.map((e) => e.entry) }));
        const results = answer.Records ?? [];
        batch.forEach((entry, i) => {
          const result = results[i];
          if (result !== undefined && result.ErrorCode === undefined) {
            outstanding--;
            const bytes = (entry.entry.Data as Uint8Array).length;
            deliveredBytes += bytes;
            kinesisBytesPut += bytes + (entry.entry.PartitionKey as string).length;
            delivered.add(entry.index);
            latency.record(performance.now() - entry.addedAt);
            return;
          }
          const code = result?.ErrorCode ?? 'MissingResult';
          if (code === 'ProvisionedThroughputExceededException') throttled++;
          retry(entry, code);
        });
      } catch (error) {
        const { errorCode } = describeKinesisError(error);
        for (const entry of batch) retry(entry, errorCode);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    monitor.stop();
  }
  return {
    ...progress(),
    deliveredBytes,
    failuresByCode,
    latency,
    peakRssBytes: monitor.peakRssBytes,
    cpuPercent: monitor.cpuPercent,
    heldMs: null,
    deliveredIndices: delivered.indices,
    requests,
    kinesisRecordsPut: delivered.count,
    kinesisBytesPut,
    throttled,
    attempts,
  };
}
