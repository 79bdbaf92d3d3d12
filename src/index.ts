export { KinesisProducer, type StreamUserRecord } from './producer.js';
export type { ProducerConfig, RetryOptions, Logger } from './config.js';
export {
  type UserRecord,
  type UserRecordResult,
  type Attempt,
  type KplErrorCode,
  KPL_ERROR_CODES,
  type UserRecordFailureReason,
  KplError,
  ValidationError,
  UserRecordFailedError,
  ProducerClosedError,
  BufferFullError,
} from './records.js';
export { deaggregate, type DeaggregatedRecord, type ReceivedKinesisRecord } from './format/deaggregate.js';
