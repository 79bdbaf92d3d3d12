/**
 * The KPL aggregated-record format in one import: its constants, the encoder and the decoder, each
 * in a file of its own.
 */
export { AGGREGATE_PARTITION_KEY, KPL_MAGIC, LZ4_AGGREGATE_MAGIC } from './aggregate-format.js';
export {
  AggregateBuilder,
  type AggregateOptions,
  aggregateSize,
  encodeAggregatedRecord,
  type KinesisRecord,
  newRecordBytes,
} from './aggregate-encoder.js';
export { decodeAggregatedRecord, type DecodedAggregate, scanAggregatedRecord, type ScannedAggregate } from './aggregate-decoder.js';
