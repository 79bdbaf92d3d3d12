/** What one shard (or a stream, or the whole server) did with the records offered to it. */
export interface WriteCounts {
  /** Records stored. */
  acceptedRecords: number;
  /** Bytes stored, data plus partition key, the measure of the service's byte limit. */
  acceptedBytes: number;
  /** Records refused with ProvisionedThroughputExceededException. */
  throttledRecords: number;
  /** Bytes of the throttled records, data plus partition key. */
  throttledBytes: number;
  /** Records failed on their own with an injected InternalFailure. */
  failedRecords: number;
}

/** Counts of one stream, in total and per shard ID. */
export interface StreamStats extends WriteCounts {
  shards: Record<string, WriteCounts>;
}

/** How many times each injected fault happened. */
export interface FaultCounts {
  /** Requests answered HTTP 500 InternalFailure. */
  internalFailure: number;
  /** Requests answered HTTP 503 ServiceUnavailable. */
  serviceUnavailable: number;
  /** Connections reset. */
  connectionReset: number;
  /** Requests left unanswered. */
  hang: number;
  /** Requests delayed by injected latency. */
  delayed: number;
  /** Outages started; connections refused during them are not counted, the kernel refuses them. */
  outages: number;
}

/** A snapshot of what a {@link LocalKinesis} has done since it started or since `resetStats()`. */
export interface LocalKinesisStats extends WriteCounts {
  /** Requests received, every operation, faulted ones included. */
  requests: number;
  /** PutRecords requests answered with per-record results. */
  putRecordsRequests: number;
  /** PutRecord requests answered (stored or throttled). */
  putRecordRequests: number;
  faults: FaultCounts;
  /** By stream name. */
  streams: Record<string, StreamStats>;
}

function emptyCounts(): WriteCounts {
  return { acceptedRecords: 0, acceptedBytes: 0, throttledRecords: 0, throttledBytes: 0, failedRecords: 0 };
}

function emptyStats(): LocalKinesisStats {
  return {
    ...emptyCounts(),
    requests: 0,
    putRecordsRequests: 0,
    putRecordRequests: 0,
    faults: { internalFailure: 0, serviceUnavailable: 0, connectionReset: 0, hang: 0, delayed: 0, outages: 0 },
    streams: {},
  };
}

/** Accumulates {@link LocalKinesisStats}. */
export class StatsRecorder {
  #stats = emptyStats();

  /** The counters themselves, for the server to increment request and fault counts. */
  get live(): LocalKinesisStats {
    return this.#stats;
  }

  /** A deep copy that later counting does not change. */
  snapshot(): LocalKinesisStats {
    return structuredClone(this.#stats);
  }

  reset(): void {
    this.#stats = emptyStats();
  }

  accepted(streamName: string, shardId: string, bytes: number): void {
    for (const counts of this.#levels(streamName, shardId)) {
      counts.acceptedRecords++;
      counts.acceptedBytes += bytes;
    }
  }

  throttled(streamName: string, shardId: string, bytes: number): void {
    for (const counts of this.#levels(streamName, shardId)) {
      counts.throttledRecords++;
      counts.throttledBytes += bytes;
    }
  }

  failed(streamName: string, shardId: string): void {
    for (const counts of this.#levels(streamName, shardId)) counts.failedRecords++;
  }

  #levels(streamName: string, shardId: string): [WriteCounts, WriteCounts, WriteCounts] {
    const stream = (this.#stats.streams[streamName] ??= { ...emptyCounts(), shards: {} });
    const shard = (stream.shards[shardId] ??= emptyCounts());
    return [this.#stats, stream, shard];
  }
}
