export { KinesisProducer, type StreamUserRecord } from './producer.js';
export type { ProducerConfig, RetryOptions, Logger } from './config.js';
export {
  type UserRecord,
  type UserRecordResult,
  type Attempt,
  type KplErrorCode,
  KplError,
  ValidationError,
  UserRecordFailedError,
  ProducerClosedError,
  BufferFullError,
} from './records.js';
export { deaggregate } from './format/deaggregate.js';
