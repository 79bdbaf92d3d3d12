/**
 * The Kinesis Data Streams service limits that the producer must honour, in one place.
 * Sources: the PutRecords and PutRecord API references and the Kinesis quotas page.
 */

/** Records in one PutRecords request. */
export const MAX_RECORDS_PER_PUT_RECORDS = 500;

/** Bytes in one PutRecords request, counting each record's data and its partition key's UTF-8 bytes. */
export const MAX_BYTES_PER_PUT_RECORDS = 5 * 1024 * 1024;

/**
 * Bytes in one Kinesis record, its data plus its partition key's UTF-8 bytes, on a stream whose
 * MaxRecordSizeInKiB is the default 1,024; also the largest aggregate the producer builds.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Bytes in one Kinesis record on a stream whose MaxRecordSizeInKiB is the largest, 10,240. */
export const LARGEST_RECORD_BYTES = 10 * 1024 * 1024;

/**
 * Longest partition key, in UTF-16 code units (JavaScript's `string.length`).
 *
 * Kinesis documents "256 Unicode characters" without saying how it counts them. A character
 * outside the Basic Multilingual Plane is one code point but two UTF-16 code units, so counting
 * code units is the stricter reading: every key we accept is at most 256 characters under either
 * reading, and the service (a Java service, whose `String.length()` also counts code units)
 * never rejects a key we let through.
 */
export const MAX_PARTITION_KEY_LENGTH = 256;

/** Records a shard accepts per second. */
export const SHARD_MAX_RECORDS_PER_SECOND = 1000;

/** Bytes (data plus partition key) a shard accepts per second. */
export const SHARD_MAX_BYTES_PER_SECOND = 1024 * 1024;

/** The largest hash key, 2^128 - 1, in decimal, as Kinesis writes shard ranges. */
export const MAX_HASH_KEY = '340282366920938463463374607431768211455';
