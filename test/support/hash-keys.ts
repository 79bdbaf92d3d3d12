import { createHash } from 'node:crypto';

/** MD5 of the partition key's UTF-8 bytes as a 128-bit integer: the record's hash key. Test-side reference. */
export function md5HashKey(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** A 128-bit hash key as the four uint32 words, most significant first, that the codec and shard map take. */
export function hashKeyWords(value: bigint): Uint32Array {
  const out = new Uint32Array(4);
  for (let i = 3; i >= 0; i--) {
    out[i] = Number(value & 0xffff_ffffn);
    value >>= 32n;
  }
  return out;
}
