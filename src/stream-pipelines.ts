/**
 * One StreamPipeline per stream: the producer's own stream's, made and started at once, and one for
 * each other stream a record names, made on its first record.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ResolvedConfig } from './config.js';
import type { PendingRecord } from './pending-record.js';
import type { PipelineObserver } from './pipeline/observer.js';
import { type ShardRateReport, StreamPipeline } from './pipeline/stream-pipeline.js';
import { ValidationError } from './records.js';

/** A shard's rate, with the stream it belongs to. */
export type StreamShardRateReport = ShardRateReport & { readonly stream: string };

/** The producer's pipelines, by stream name (or the default stream's ARN). */
export class StreamPipelines {
  readonly #config: ResolvedConfig;
  readonly #client: KinesisClient;
  readonly #observer: PipelineObserver | undefined;
  readonly #settled: (item: PendingRecord) => void;
  readonly #pipelines = new Map<string, StreamPipeline>();
  /** The pipeline of the producer's own stream, where records without a streamName go. */
  readonly default: StreamPipeline;

  constructor(
    config: ResolvedConfig,
    client: KinesisClient,
    observer: PipelineObserver | undefined,
    /** Called once per record, after its promise settled. */
    settled: (item: PendingRecord) => void,
  ) {
    this.#config = config;
    this.#client = client;
    this.#observer = observer;
    this.#settled = settled;
    this.default = this.#create(config.stream.streamARN ?? (config.stream.streamName as string), config.stream);
  }

  /**
   * The pipeline of `streamName`, made and started on first use; the default stream's when undefined.
   *
   * @throws ValidationError when streamName is not a non-empty string.
   */
  for(streamName: string | undefined): StreamPipeline {
    if (streamName === undefined) return this.default;
    const existing = this.#pipelines.get(streamName);
    if (existing !== undefined) return existing;
    if (typeof streamName !== 'string' || streamName.length === 0) {
      throw new ValidationError('streamName', "a record's streamName must be a non-empty string");
    }
    return this.#create(streamName, { streamName });
  }

  /** Each open shard's rate now, per stream. */
  shardRates(): StreamShardRateReport[] {
    const rates: StreamShardRateReport[] = [];
    for (const pipeline of this.#pipelines.values())
      for (const rate of pipeline.shardRates()) rates.push({ stream: pipeline.label, ...rate });
    return rates;
  }

  /** Sends what every pipeline buffers now. */
  flush(): void {
    for (const pipeline of this.#pipelines.values()) pipeline.flush();
  }

  /** Closes every pipeline: records still inside fail with reason 'closed'. */
  close(): void {
    for (const pipeline of this.#pipelines.values()) pipeline.close();
  }

  #create(label: string, stream: { streamName?: string; streamARN?: string }): StreamPipeline {
    const pipeline = new StreamPipeline(
      { config: this.#config, client: this.#client, observer: this.#observer, settled: this.#settled },
      stream,
    );
    this.#pipelines.set(label, pipeline);
    pipeline.start();
    return pipeline;
  }
}
