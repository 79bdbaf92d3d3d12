import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { deaggregate, type UserRecord } from '../../src/index.js';
import { readRecordsByShard } from './read-records.js';
import { referenceHashKey } from './records.js';
import { isOpenShard, shardOwningHashKey } from './streams.js';

/**
 * Records whose payload names them: `#<key>:<counter>#` followed by filler up to `size` bytes.
 * `counter` counts up per partition key, so a reader can check each key's order and spot
 * duplicates and gaps without keeping the records sent.
 */
export function taggedData(key: number, counter: number, size: number): Uint8Array {
  const data = new Uint8Array(size);
  data.fill(0x2e);
  const tag = `#${key}:${counter}#`;
  if (tag.length > size) throw new RangeError(`taggedData: ${size} bytes cannot hold the tag ${tag}`);
  for (let i = 0; i < tag.length; i++) data[i] = tag.charCodeAt(i);
  return data;
}

/**
 * `count` partition keys (`key-<n>`), the same number owned by each open shard and interleaved
 * shard by shard, so that records taken round-robin load every shard alike. Ranges are read, not assumed.
 */
export function balancedPartitionKeys(shards: readonly Shard[], count: number): string[] {
  const perShard = new Map<string, string[]>(shards.filter(isOpenShard).map((shard) => [shard.ShardId ?? '', []]));
  const wanted = Math.ceil(count / perShard.size);
  for (let n = 0; [...perShard.values()].some((keys) => keys.length < wanted); n++) {
    const key = `key-${n}`;
    const owned = perShard.get(shardOwningHashKey(shards, referenceHashKey(key))?.ShardId ?? '');
    if (owned !== undefined && owned.length < wanted) owned.push(key);
  }
  const keys: string[] = [];
  for (let i = 0; i < wanted; i++) for (const owned of perShard.values()) keys.push(owned[i] as string);
  return keys.slice(0, count);
}

/**
 * Makes tagged records round-robin over `partitionKeys` (key number = index in the list), each
 * key's counter counting up, and remembers what it made in order.
 */
export class TaggedSource {
  /** Data plus partition key bytes of every record made. */
  offeredBytes = 0;
  /** Key number and counter of every record made, in order. */
  readonly made: Array<readonly [key: number, counter: number]> = [];
  readonly #partitionKeys: readonly string[];
  readonly #size: number;
  readonly #counters: number[];
  #next = 0;

  constructor(partitionKeys: readonly string[], recordBytes: number) {
    this.#partitionKeys = partitionKeys;
    this.#size = recordBytes;
    this.#counters = new Array<number>(partitionKeys.length).fill(0);
  }

  /** The next record. */
  next(): UserRecord {
    const key = this.#next++ % this.#partitionKeys.length;
    const counter = this.#counters[key] as number;
    this.#counters[key] = counter + 1;
    const partitionKey = this.#partitionKeys[key] as string;
    this.offeredBytes += this.#size + Buffer.byteLength(partitionKey);
    this.made.push([key, counter]);
    return { partitionKey, data: taggedData(key, counter, this.#size) };
  }

  /** Counters made per key number. */
  get sent(): Map<number, number[]> {
    return this.only(() => true);
  }

  /** Counters per key number of the records whose index in {@link made} passes `keep`. */
  only(keep: (index: number) => boolean): Map<number, number[]> {
    const sent = new Map<number, number[]>();
    this.made.forEach(([key, counter], index) => {
      if (!keep(index)) return;
      let counters = sent.get(key);
      if (counters === undefined) sent.set(key, (counters = []));
      counters.push(counter);
    });
    return sent;
  }
}

/** A user record read back, in the order its shard stored it. */
export interface ReadBackRecord {
  readonly shardId: string;
  readonly partitionKey: string;
  readonly key: number;
  readonly counter: number;
  readonly bytes: number;
}

/** Reads every shard of the stream back in sequence order, deaggregates, and parses each record's tag. */
export async function readTaggedRecords(client: KinesisClient, streamName: string): Promise<ReadBackRecord[]> {
  const records: ReadBackRecord[] = [];
  for (const [shardId, stored] of await readRecordsByShard(client, streamName)) {
    for (const kinesisRecord of stored) {
      for (const user of deaggregate(kinesisRecord)) {
        const head = Buffer.from(user.data.subarray(0, 32)).toString('latin1');
        const match = /^#(\d+):(\d+)#/.exec(head);
        if (match === null) throw new Error(`record on ${shardId} has no tag: ${JSON.stringify(head)}`);
        records.push({
          shardId,
          partitionKey: user.partitionKey,
          key: Number(match[1]),
          counter: Number(match[2]),
          bytes: user.data.length,
        });
      }
    }
  }
  return records;
}

/** What a read-back says about the records sent: each `key:counter` with how often it was read. */
export interface ReadBackCheck {
  /** Tags read more than once. */
  readonly duplicates: string[];
  /** Tags expected but not read. */
  readonly missing: string[];
  /** Tags read that were not expected. */
  readonly unexpected: string[];
  /** Partition keys whose counters were read back out of order, with the first pair out of order. */
  readonly outOfOrder: string[];
}

/**
 * Compares a read-back with the tags expected (`expected` maps key number to the counters sent
 * and delivered). Order is checked per partition key over the whole read-back, which holds one
 * shard's records in sequence order and a key always lands on one shard (no resharding).
 */
export function checkReadBack(records: readonly ReadBackRecord[], expected: ReadonlyMap<number, readonly number[]>): ReadBackCheck {
  const seen = new Map<string, number>();
  const lastCounter = new Map<number, number>();
  const outOfOrder: string[] = [];
  for (const record of records) {
    const tag = `${record.key}:${record.counter}`;
    seen.set(tag, (seen.get(tag) ?? 0) + 1);
    const last = lastCounter.get(record.key);
    if (last !== undefined && record.counter <= last && !outOfOrder.some((entry) => entry.startsWith(`key ${record.key}:`))) {
      outOfOrder.push(`key ${record.key}: ${record.counter} after ${last}`);
    }
    lastCounter.set(record.key, record.counter);
  }
  const missing: string[] = [];
  const expectedTags = new Set<string>();
  for (const [key, counters] of expected) {
    for (const counter of counters) {
      const tag = `${key}:${counter}`;
      expectedTags.add(tag);
      if (!seen.has(tag)) missing.push(tag);
    }
  }
  const duplicates = [...seen].filter(([, count]) => count > 1).map(([tag]) => tag);
  const unexpected = [...seen.keys()].filter((tag) => !expectedTags.has(tag));
  return { duplicates, missing, unexpected, outOfOrder };
}
