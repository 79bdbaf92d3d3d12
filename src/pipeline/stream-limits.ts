/**
 * The limits a stream sets for itself, read from DescribeStreamSummary: the largest record it
 * takes (MaxRecordSizeInKiB, 1 MiB unless UpdateMaxRecordSize raised it, up to 10 MiB), its mode
 * and its status. The producer sizes records against this instead of the service-wide 1 MiB.
 */
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { Logger } from '../config.js';
import { LARGEST_RECORD_BYTES, MAX_RECORD_BYTES } from '../format/limits.js';
import { describeKinesisError, streamParameters, type StreamRef } from './kinesis-client.js';

/** What a stream allows, and where the producer learnt it. */
export interface StreamLimits {
  /** Most bytes of data plus partition key one record may hold on this stream. */
  readonly maxRecordBytes: number;
  /**
   * `option`: the producer's maxRecordSize said it; `stream`: DescribeStreamSummary did;
   * `default`: neither, so the service's default of 1 MiB holds (before the first read, or when
   * the call is denied or fails).
   */
  readonly source: 'option' | 'stream' | 'default';
  /** 'PROVISIONED' or 'ON_DEMAND', once DescribeStreamSummary said it. */
  readonly streamMode: string | undefined;
  /** 'ACTIVE', 'UPDATING', ..., as the last DescribeStreamSummary said it. */
  readonly streamStatus: string | undefined;
  /** Whose limit maxRecordBytes is, in words, for the error of a record over it. */
  readonly description: string;
}

/** Options of a {@link StreamLimitsTracker}. */
export interface StreamLimitsOptions {
  /** The producer's maxRecordSize option, in bytes: when given, no call is made. */
  readonly maxRecordSize?: number | undefined;
  /** Where the one line about a denied or failed call goes. */
  readonly logger?: Logger | undefined;
}

const DEFAULT_LIMITS: StreamLimits = {
  maxRecordBytes: MAX_RECORD_BYTES,
  source: 'default',
  streamMode: undefined,
  streamStatus: undefined,
  description: "the service's default of 1 MiB: the stream's MaxRecordSizeInKiB could not be read; the maxRecordSize option can say it",
};

/**
 * Holds one stream's limits. Until a read succeeds they are the service's defaults (1 MiB). Where
 * an IAM policy denies DescribeStreamSummary, the tracker says so once in the log, keeps the
 * default and never calls again; another failure is logged once too, and the next
 * {@link refresh} tries again. With the maxRecordSize option it never calls at all.
 */
export class StreamLimitsTracker {
  readonly #client: KinesisClient;
  readonly #stream: StreamRef;
  readonly #logger: Logger | undefined;
  readonly #closing = new AbortController();
  #current: StreamLimits;
  #loading: Promise<StreamLimits> | undefined;
  #denied = false;
  #failureLogged = false;

  constructor(client: KinesisClient, stream: StreamRef, options: StreamLimitsOptions = {}) {
    this.#client = client;
    this.#stream = stream;
    this.#logger = options.logger;
    this.#current =
      options.maxRecordSize === undefined
        ? DEFAULT_LIMITS
        : { ...DEFAULT_LIMITS, maxRecordBytes: options.maxRecordSize, source: 'option', description: 'the maxRecordSize option' };
  }

  /** The limits known now: the defaults until a read succeeded. */
  get current(): StreamLimits {
    return this.#current;
  }

  /** True once the record size limit is the stream's own (or the option's), not a default. */
  get known(): boolean {
    return this.#current.source !== 'default';
  }

  /**
   * Reads DescribeStreamSummary, unless the option gave the limit or the call was denied; a call
   * while a read runs joins it. Never rejects: a failed read leaves the current limits.
   */
  refresh(): Promise<StreamLimits> {
    if (this.#current.source === 'option' || this.#denied || this.#closing.signal.aborted) {
      return Promise.resolve(this.#current);
    }
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** Aborts a read in flight; refresh() then keeps what it has. */
  close(): void {
    this.#closing.abort();
  }

  async #load(): Promise<StreamLimits> {
    try {
      const { StreamDescriptionSummary: summary } = await this.#client.send(
        new DescribeStreamSummaryCommand(streamParameters(this.#stream)),
        { abortSignal: this.#closing.signal },
      );
      const kib = summary?.MaxRecordSizeInKiB;
      const maxRecordBytes = kib === undefined || kib <= 0 ? MAX_RECORD_BYTES : Math.min(kib * 1024, LARGEST_RECORD_BYTES);
      this.#current = {
        maxRecordBytes,
        source: 'stream',
        streamMode: summary?.StreamModeDetails?.StreamMode,
        streamStatus: summary?.StreamStatus,
        description: `MaxRecordSizeInKiB ${(maxRecordBytes / 1024).toLocaleString('en-US')} of stream ${this.#stream.streamName ?? this.#stream.streamARN ?? ''}`,
      };
    } catch (error) {
      if (this.#closing.signal.aborted) return this.#current;
      const { errorCode, errorMessage } = describeKinesisError(error);
      const stream = this.#stream.streamName ?? this.#stream.streamARN;
      if (errorCode === 'AccessDeniedException') {
        this.#denied = true;
        this.#logger?.warn(
          'DescribeStreamSummary is denied: records are limited to 1 MiB with their partition key; ' +
            'set maxRecordSize to use a larger MaxRecordSizeInKiB of the stream',
          { stream, errorCode },
        );
      } else if (!this.#failureLogged) {
        this.#failureLogged = true;
        this.#logger?.warn('DescribeStreamSummary failed: records are limited to 1 MiB with their partition key until it succeeds', {
          stream,
          errorCode,
          errorMessage,
        });
      }
    }
    return this.#current;
  }
}
