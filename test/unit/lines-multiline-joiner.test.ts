import { describe, expect, it } from 'vitest';
import { MultilineJoiner, type MultilineJoinerOptions } from '../../src/cli/lines/multiline-joiner.js';

/** A log4j/logback line with a Java exception, as an application writes it. */
const STACK_TRACE = [
  '2026-12-05 11:59:40,123 ERROR [http-nio-8080-exec-3] c.e.orders.OrderController - Request failed',
  'java.lang.IllegalStateException: order 1042 has no lines',
  '\tat com.example.orders.OrderService.total(OrderService.java:88)',
  '\tat com.example.orders.OrderController.checkout(OrderController.java:42)',
  '\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)',
  'Caused by: java.sql.SQLException: connection reset',
  '\tat org.postgresql.core.v3.QueryExecutorImpl.execute(QueryExecutorImpl.java:356)',
  '\t... 3 more',
];
const NEXT = '2026-12-05 11:59:41,007 INFO  [http-nio-8080-exec-4] c.e.orders.OrderController - Request done';
const STARTS_WITH_DATE = /^\d{4}-\d{2}-\d{2} /;

function join(
  options: Partial<MultilineJoinerOptions>,
  lines: readonly string[],
): { records: Array<[string, number]>; joiner: MultilineJoiner } {
  const joiner = new MultilineJoiner({
    start: STARTS_WITH_DATE,
    maxBytes: 1 << 20,
    longRecords: 'truncate',
    truncatedTerminator: Buffer.from('\n'),
    ...options,
  });
  const records: Array<[string, number]> = [];
  const onRecord = (bytes: Buffer, endOffset: number): void => {
    records.push([bytes.toString(), endOffset]);
  };
  let offset = 0;
  for (const line of lines) {
    const bytes = Buffer.from(`>${line}<`);
    offset += bytes.length - 1;
    joiner.line(bytes, 1, bytes.length - 1, offset, onRecord);
  }
  joiner.flush(onRecord);
  return { records, joiner };
}

describe('MultilineJoiner', () => {
  it('joins a Java stack trace, its Caused by and its ... more, to the log line that starts it', () => {
    const { records } = join({}, [...STACK_TRACE, NEXT]);
    expect(records.map(([text]) => text)).toEqual([STACK_TRACE.join('\n'), NEXT]);
    expect(records[0]?.[1]).toBe(Buffer.byteLength(STACK_TRACE.join('\n')) + 1);
  });

  it('keeps lines before the first start line as a record of their own', () => {
    expect(join({}, ['\tat orphan.Frame(X.java:1)', NEXT]).records.map(([text]) => text)).toEqual(['\tat orphan.Frame(X.java:1)', NEXT]);
  });

  it('holds the last record until flush, as it cannot know that no continuation follows', () => {
    const joiner = new MultilineJoiner({
      start: STARTS_WITH_DATE,
      maxBytes: 1000,
      longRecords: 'truncate',
      truncatedTerminator: Buffer.alloc(0),
    });
    const records: string[] = [];
    const line = Buffer.from(NEXT);
    joiner.line(line, 0, line.length, line.length, (bytes) => records.push(bytes.toString()));
    expect(records).toEqual([]);
    expect(joiner.pending).toBe(true);
    joiner.flush((bytes) => records.push(bytes.toString()));
    expect(records).toEqual([NEXT]);
    expect(joiner.pending).toBe(false);
  });

  it('truncates a record that grows past maxBytes, with the terminator, and counts it once', () => {
    const { records, joiner } = join({ maxBytes: 120, truncatedTerminator: Buffer.from('[cut]') }, [...STACK_TRACE, NEXT]);
    expect(records[0]?.[0]).toBe(`${STACK_TRACE.join('\n').slice(0, 115)}[cut]`);
    expect(records[0]?.[1]).toBe(Buffer.byteLength(STACK_TRACE.join('\n')) + 1);
    expect(records[1]?.[0]).toBe(NEXT);
    expect(joiner.recordsTooLong).toBe(1);
  });

  it('splits a record that grows past maxBytes into records of whole lines', () => {
    const { records, joiner } = join({ maxBytes: 160, longRecords: 'split' }, STACK_TRACE);
    expect(records.map(([text]) => text).join('\n')).toBe(STACK_TRACE.join('\n'));
    for (const [text] of records) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(160);
    expect(records.length).toBeGreaterThan(1);
    expect(joiner.recordsTooLong).toBe(1);
  });
});
