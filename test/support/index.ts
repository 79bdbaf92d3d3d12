export { createKinesisClient, type TestClientOptions } from './kinesis-client.js';
export {
  createStream,
  deleteStream,
  isOpenShard,
  listAllShards,
  shardOwningHashKey,
  uniqueStreamName,
  waitForStreamActive,
} from './streams.js';
export { type KclReadBack, type KclRecord, readAllRecords, readAsKcl, readRecordsByShard, type StoredRecord } from './read-records.js';
export { md5HashKey } from './hash-keys.js';
export { startLocalKinesis } from './local-kinesis.js';
