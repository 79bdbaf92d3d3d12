import { createHash } from 'node:crypto';

/** MD5 of the partition key's UTF-8 bytes as a 128-bit integer: the record's hash key. Test-side reference. */
export function md5HashKey(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}
