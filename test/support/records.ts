import { createHash } from 'node:crypto';

/** The hash key Kinesis derives from a record, computed independently of the code under test. */
export function referenceHashKey(partitionKey: string, explicitHashKey?: string): bigint {
  if (explicitHashKey !== undefined) return BigInt(explicitHashKey);
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

const UNICODE_PIECES = ['é', 'ß', '中文', '🚀', 'Ω', 'ключ', '한', '\u0301'];

/**
 * A mix of partition keys a real producer sees: random ASCII, Unicode (astral too), numeric
 * strings (which break Object.keys-based key tables), exactly 256 characters, and repeats.
 */
export function mixedPartitionKey(random: () => number, index: number): string {
  const kind = index % 6;
  if (kind === 0) return `device-${Math.floor(random() * 1e9).toString(36)}`;
  if (kind === 1) return String(Math.floor(random() * 100_000));
  if (kind === 2) {
    let key = '';
    while (key.length < 12) key += UNICODE_PIECES[Math.floor(random() * UNICODE_PIECES.length)];
    return key;
  }
  if (kind === 3) return `k${index}-`.repeat(60).slice(0, 256);
  if (kind === 4) return `shared-${Math.floor(random() * 20)}`;
  return `${index}`;
}

/** A random decimal hash key in [0, 2^128 - 1], with the extremes now and then. */
export function randomExplicitHashKey(random: () => number): string {
  const roll = random();
  if (roll < 0.05) return '0';
  if (roll < 0.1) return (2n ** 128n - 1n).toString();
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  return value.toString();
}
