/**
 * What strictOrdering costs: bytes a shard accepts per second with and without it, offered about
 * twice the shards' write limit on the limits-enforcing LocalKinesis.
 *
 *   npm run build && node dist/bench/strict-ordering.js
 */
import { fileURLToPath } from 'node:url';
import { KinesisProducer } from '../src/producer.js';
import { LocalKinesis } from '../src/testing/index.js';

/** Accepted throughput of one setting. */
export interface StrictOrderingResult {
  readonly strictOrdering: boolean;
  readonly mibPerSecondPerShard: number;
  readonly throttledKinesisRecords: number;
}

const SHARDS = 2;
const SECONDS = 6;
const RECORD_BYTES = 1000;
const KEYS = 64;

/** Runs the producer for a fixed time with and without strictOrdering, each on a fresh LocalKinesis. */
export async function runStrictOrderingBench(): Promise<StrictOrderingResult[]> {
  const results: StrictOrderingResult[] = [];
  for (const strictOrdering of [false, true]) results.push(await measure(strictOrdering));
  return results;
}

/** The results as a Markdown table. */
export function formatStrictOrderingBench(results: readonly StrictOrderingResult[]): string {
  return [
    '| strictOrdering | accepted MiB/s per shard | throttled Kinesis records |',
    '| --- | ---: | ---: |',
    ...results.map((r) => `| ${r.strictOrdering} | ${r.mibPerSecondPerShard.toFixed(2)} | ${r.throttledKinesisRecords} |`),
  ].join('\n');
}

async function measure(strictOrdering: boolean): Promise<StrictOrderingResult> {
  const kinesis = await LocalKinesis.start({ streams: [{ name: 'ordered', shards: SHARDS }] });
  const producer = new KinesisProducer({
    streamName: 'ordered',
    endpoint: kinesis.endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    strictOrdering,
    metricsLevel: 'none',
  });
  try {
    const data = new Uint8Array(RECORD_BYTES).fill(0x61);
    const started = Date.now();
    let sequence = 0;
    while (Date.now() - started < SECONDS * 1000) {
      // About twice what the shards accept: 200 KB every 50 ms, while the producer has room.
      for (let i = 0; i < 200 && producer.outstandingRecords < 20_000; i++) {
        producer.add({ partitionKey: `key-${sequence++ % KEYS}`, data }).catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stats = kinesis.stats();
    return {
      strictOrdering,
      mibPerSecondPerShard: stats.acceptedBytes / SHARDS / SECONDS / (1024 * 1024),
      throttledKinesisRecords: stats.throttledRecords,
    };
  } finally {
    await producer.close();
    await kinesis.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${formatStrictOrderingBench(await runStrictOrderingBench())}\n`);
}
