/**
 * LZ4 block compression of an aggregate's protobuf payload (the optional `compression: 'lz4'`).
 *
 * The block is lz4_flex's "size prepended" form, as lz4-napi's compressSync writes it: the
 * uncompressed length as a little-endian uint32, then one LZ4 block. The framing around it (our
 * own magic and the MD5 trailer) lives in aggregated-record.ts.
 *
 * lz4-napi is a native module: it is loaded on first use, so that producers without compression
 * (the default) and platforms without a prebuilt binary never load it.
 */
import { createRequire } from 'node:module';

type Lz4Napi = typeof import('lz4-napi');

let lz4: Lz4Napi | undefined;

function loadLz4(): Lz4Napi {
  lz4 ??= createRequire(import.meta.url)('lz4-napi') as Lz4Napi;
  return lz4;
}

/** LZ4 never expands more than 255 to 1, so a claimed length beyond that is corrupt input. */
const MAX_EXPANSION = 255;
const LENGTH_PREFIX_BYTES = 4;

/** Compresses `data` into a size-prefixed LZ4 block. */
export function compressBlock(data: Uint8Array): Uint8Array {
  return loadLz4().compressSync(asBuffer(data));
}

/**
 * Decompresses a size-prefixed LZ4 block; undefined when the bytes are not one, or when the
 * claimed length is implausible (checked before anything is allocated for it). Never throws.
 */
export function decompressBlock(block: Uint8Array): Uint8Array | undefined {
  if (block.length < LENGTH_PREFIX_BYTES) return undefined;
  const claimed = (block[0]! | (block[1]! << 8) | (block[2]! << 16) | (block[3]! << 24)) >>> 0;
  if (claimed > (block.length - LENGTH_PREFIX_BYTES) * MAX_EXPANSION) return undefined;
  let result: Uint8Array;
  try {
    result = loadLz4().uncompressSync(block);
  } catch {
    return undefined;
  }
  return result.length === claimed ? result : undefined;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
