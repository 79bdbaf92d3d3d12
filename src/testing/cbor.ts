/**
 * The CBOR subset that Kinesis clients send with `application/x-amz-cbor-1.1` (the AWS SDK for
 * Java, hence the Java KPL and KCL): integers, floats, byte and text strings, arrays and maps,
 * definite or indefinite length, tags skipped. Byte strings decode to Buffers.
 */

/** Decodes the first CBOR item of `bytes`; throws a RangeError on malformed input. */
export function decodeCbor(bytes: Buffer): unknown {
  const reader = { bytes, offset: 0 };
  return readItem(reader);
}

/** Encodes JSON-like values; Uint8Arrays become byte strings. */
export function encodeCbor(value: unknown): Buffer {
  const parts: Buffer[] = [];
  writeItem(parts, value);
  return Buffer.concat(parts);
}

interface Reader {
  readonly bytes: Buffer;
  offset: number;
}

const BREAK = Symbol('break');

function readItem(reader: Reader): unknown {
  const initial = readByte(reader);
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === 7) return readSimple(reader, info);
  if (info === 31) return readIndefinite(reader, major);
  const argument = readArgument(reader, info);
  switch (major) {
    case 0:
      return argument;
    case 1:
      return -1 - argument;
    case 2:
      return Buffer.from(take(reader, argument));
    case 3:
      return take(reader, argument).toString('utf8');
    case 4:
      return Array.from({ length: argument }, () => readItem(reader));
    case 5: {
      const map: Record<string, unknown> = {};
      for (let i = 0; i < argument; i++) map[String(readItem(reader))] = readItem(reader);
      return map;
    }
    default:
      return readItem(reader); // a tag: its content stands for it
  }
}

function readIndefinite(reader: Reader, major: number): unknown {
  if (major === 2 || major === 3) {
    const chunks: Buffer[] = [];
    for (let chunk = readItem(reader); chunk !== BREAK; chunk = readItem(reader)) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer));
    }
    const joined = Buffer.concat(chunks);
    return major === 2 ? joined : joined.toString('utf8');
  }
  if (major === 4) {
    const items: unknown[] = [];
    for (let item = readItem(reader); item !== BREAK; item = readItem(reader)) items.push(item);
    return items;
  }
  if (major === 5) {
    const map: Record<string, unknown> = {};
    for (let key = readItem(reader); key !== BREAK; key = readItem(reader)) map[String(key)] = readItem(reader);
    return map;
  }
  throw new RangeError(`CBOR: major type ${major} cannot have an indefinite length`);
}

function readSimple(reader: Reader, info: number): unknown {
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
    case 23:
      return null;
    case 25:
      return halfToNumber(take(reader, 2).readUInt16BE(0));
    case 26:
      return take(reader, 4).readFloatBE(0);
    case 27:
      return take(reader, 8).readDoubleBE(0);
    case 31:
      return BREAK;
    default:
      if (info < 20) return info;
      if (info === 24) return readByte(reader);
      throw new RangeError(`CBOR: unsupported simple value ${info}`);
  }
}

function readArgument(reader: Reader, info: number): number {
  if (info < 24) return info;
  if (info === 24) return readByte(reader);
  if (info === 25) return take(reader, 2).readUInt16BE(0);
  if (info === 26) return take(reader, 4).readUInt32BE(0);
  if (info === 27) return Number(take(reader, 8).readBigUInt64BE(0));
  throw new RangeError(`CBOR: reserved additional information ${info}`);
}

function readByte(reader: Reader): number {
  const byte = reader.bytes[reader.offset];
  if (byte === undefined) throw new RangeError('CBOR: input ends inside an item');
  reader.offset++;
  return byte;
}

function take(reader: Reader, length: number): Buffer {
  const end = reader.offset + length;
  if (end > reader.bytes.length) throw new RangeError('CBOR: input ends inside an item');
  const slice = reader.bytes.subarray(reader.offset, end);
  reader.offset = end;
  return slice;
}

function halfToNumber(half: number): number {
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  const sign = half & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function writeItem(parts: Buffer[], value: unknown): void {
  if (value === null || value === undefined) parts.push(Buffer.of(0xf6));
  else if (value === false) parts.push(Buffer.of(0xf4));
  else if (value === true) parts.push(Buffer.of(0xf5));
  else if (typeof value === 'number') writeNumber(parts, value);
  else if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    writeHead(parts, 3, text.length);
    parts.push(text);
  } else if (value instanceof Uint8Array) {
    writeHead(parts, 2, value.length);
    parts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  } else if (Array.isArray(value)) {
    writeHead(parts, 4, value.length);
    for (const item of value) writeItem(parts, item);
  } else {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== undefined);
    writeHead(parts, 5, entries.length);
    for (const [key, field] of entries) {
      writeItem(parts, key);
      writeItem(parts, field);
    }
  }
}

function writeNumber(parts: Buffer[], value: number): void {
  if (Number.isSafeInteger(value)) {
    if (value >= 0) writeHead(parts, 0, value);
    else writeHead(parts, 1, -1 - value);
    return;
  }
  const double = Buffer.alloc(9);
  double[0] = 0xfb;
  double.writeDoubleBE(value, 1);
  parts.push(double);
}

function writeHead(parts: Buffer[], major: number, argument: number): void {
  const type = major << 5;
  if (argument < 24) parts.push(Buffer.of(type | argument));
  else if (argument < 0x100) parts.push(Buffer.of(type | 24, argument));
  else if (argument < 0x10000) {
    const head = Buffer.alloc(3);
    head[0] = type | 25;
    head.writeUInt16BE(argument, 1);
    parts.push(head);
  } else if (argument < 0x100000000) {
    const head = Buffer.alloc(5);
    head[0] = type | 26;
    head.writeUInt32BE(argument, 1);
    parts.push(head);
  } else {
    const head = Buffer.alloc(9);
    head[0] = type | 27;
    head.writeBigUInt64BE(BigInt(argument), 1);
    parts.push(head);
  }
}
