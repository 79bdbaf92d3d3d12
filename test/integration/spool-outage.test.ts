import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KinesisProducer } from '../../src/index.js';
import { LocalKinesis } from '../../src/testing/index.js';
import { megabytes, memoryAfterGc, type MemorySnapshot } from '../support/memory.js';

/*
 * A gateway through a 30-minute outage at 1,000 records/s, simulated by time: the 1.8 million
 * records of the 30 minutes are offered minute by minute (60,000 at a time) as fast as the spool
 * takes them, instead of being waited out. The backlog must wait on disk while memory stays flat,
 * and once the endpoint is back the spool must drain at the shards' write limits.
 */
const MINUTES = 30;
const RECORDS_PER_MINUTE = 60_000;
const SHARDS = 2;
const BYTES_PER_SHARD_PER_SECOND = 1024 * 1024;

describe('a 30-minute outage with a spool', () => {
  let kinesis: LocalKinesis;
  let directory: string;

  beforeAll(async () => {
    kinesis = await LocalKinesis.start({ streams: [{ name: 'gateway', shards: SHARDS }] });
    directory = await mkdtemp(path.join(tmpdir(), 'kpl-outage-'));
  });
  afterAll(async () => {
    await kinesis.close();
    await rm(directory, { recursive: true, force: true });
  });

  it("holds 1.8 million records on disk with flat memory, then drains at the shards' limits", async () => {
    await kinesis.setOutage(true);
    const producer = new KinesisProducer({
      streamName: 'gateway',
      endpoint: kinesis.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      metricsLevel: 'none',
      maxOutstandingRecords: 20_000,
      requestTimeout: 1000,
      recordTtl: 2000,
      spool: { directory },
    });
    const data = Buffer.alloc(100, 'x');
    const samples: MemorySnapshot[] = [];
    for (let minute = 0; minute < MINUTES; minute++) {
      const enqueued: Promise<void>[] = [];
      for (let i = 0; i < RECORDS_PER_MINUTE; i++) {
        data.write(String(minute * RECORDS_PER_MINUTE + i).padStart(8, '0'));
        enqueued.push(producer.enqueue({ partitionKey: `device-${i % 500}`, data }));
      }
      await Promise.all(enqueued);
      samples.push(memoryAfterGc());
    }
    const stats = producer.spoolStats;
    expect(stats?.records).toBe(MINUTES * RECORDS_PER_MINUTE);
    expect(stats?.bytes).toBeGreaterThan(MINUTES * RECORDS_PER_MINUTE * 100);
    // Flat: after the window filled (the first minutes), the backlog grows on disk, not in memory.
    const settled = samples.slice(5);
    const first = settled[0] as MemorySnapshot;
    const growth = Math.max(...settled.map((sample) => sample.rss)) - first.rss;
    const heapGrowth = Math.max(...settled.map((sample) => sample.heapUsed)) - first.heapUsed;
    console.log(
      `outage: ${megabytes(stats?.bytes ?? 0)} on disk; RSS ${megabytes(first.rss)} at minute 5, at most ${megabytes(first.rss + growth)} after; heap ${megabytes(first.heapUsed)} +${megabytes(heapGrowth)}`,
    );
    expect(heapGrowth).toBeLessThan(20_000_000);
    expect(growth).toBeLessThan(60_000_000);

    await kinesis.setOutage(false);
    // The window's records ran out of recordTtl during the outage and wait retry.maxDelayMs (5 s by
    // default) before they go again, so the drain begins up to recordTtl + maxDelayMs after the link
    // is back, depending on where in that cycle it came back. It is measured from its first second.
    const backAt = performance.now();
    // recordTtl + retry.maxDelayMs + requestTimeout, and 4 s for the machine.
    const resumeBoundMs = 2000 + 5000 + 1000 + 4000;
    while (kinesis.stats().acceptedBytes === 0 && performance.now() - backAt < resumeBoundMs) await sleep(100);
    const resumedAfterMs = performance.now() - backAt;
    expect(resumedAfterMs).toBeLessThan(resumeBoundMs);
    await sleep(1000);
    // Ten seconds, read one at a time, so that a slow drain shows whether it was slow throughout.
    const bytesEachSecond: number[] = [];
    let acceptedRecords = 0;
    for (let second = 0; second < 10; second++) {
      kinesis.resetStats();
      await sleep(1000);
      const stats = kinesis.stats();
      bytesEachSecond.push(stats.acceptedBytes);
      acceptedRecords += stats.acceptedRecords;
    }
    const limit = SHARDS * BYTES_PER_SHARD_PER_SECOND;
    const rate = bytesEachSecond.reduce((sum, bytes) => sum + bytes, 0) / bytesEachSecond.length;
    const shardRates = producer.shardRates().map((shard) => `${Math.round((100 * shard.bytesPerSecond) / BYTES_PER_SHARD_PER_SECOND)} %`);
    console.log(
      `drain: began ${(resumedAfterMs / 1000).toFixed(1)} s after the link was back; ${megabytes(rate)}/s of the shards' ${megabytes(limit)}/s (each second, MB: ${bytesEachSecond.map((bytes) => (bytes / 1_000_000).toFixed(2)).join(', ')}), ${acceptedRecords} Kinesis records; ${producer.spoolStats?.delivered} user records delivered; the shards' rates at the end ${shardRates.join(', ')} of their limits`,
    );
    // This file runs alone (the vitest project 'throughput'), where it drains at 0.95 to 1.0 of the
    // limit once the drain has begun (BENCHMARKS.md, Spool).
    expect(rate).toBeGreaterThan(0.85 * limit);
    await producer.close();
  }, 400_000);
});
