import type { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KinesisRecord } from '../../src/format/aggregate-encoder.js';
import { PRODUCER_CLOSED_ERROR_CODE } from '../../src/pipeline/kinesis-client.js';
import { REQUEST_TIMEOUT_ERROR_CODE, Sender } from '../../src/pipeline/sender.js';

/**
 * The sender against a hand-built client: each send() gets the next scripted answer. The SDK's
 * middleware and HTTP are covered against real servers in test/integration/sender.test.ts; here
 * the sender's own bookkeeping is: capacity, timeouts, closing, and how answers become outcomes.
 */
type Answer = (signal: AbortSignal) => Promise<unknown>;

function clientAnswering(...answers: Answer[]) {
  const commands: PutRecordsCommand[] = [];
  const client = {
    send(command: PutRecordsCommand, options: { abortSignal: AbortSignal }) {
      commands.push(command);
      const answer = answers[commands.length - 1];
      if (answer === undefined) throw new Error('no answer scripted');
      return answer(options.abortSignal);
    },
  } as unknown as KinesisClient;
  return { client, commands };
}

/** An answer that never comes: the request waits until it is aborted, as a hung connection does. */
const hanging: Answer = (signal) =>
  new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' })));
  });

function answered(records: unknown[]): Answer {
  return () => Promise.resolve({ Records: records });
}

function records(count: number): KinesisRecord[] {
  return Array.from({ length: count }, (_, i) => ({ partitionKey: `k${i}`, explicitHashKey: undefined, data: Buffer.from(`r${i}`) }));
}

const stream = { streamName: 'telemetry' };

describe('Sender', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses options out of range, naming the field and the value', () => {
    const { client } = clientAnswering();
    expect(() => new Sender(client, stream, { maxConnections: 0, requestTimeout: 1000 })).toThrow(
      'maxConnections must be an integer, 1 or more; got 0',
    );
    expect(() => new Sender(client, stream, { maxConnections: 1, requestTimeout: Number.NaN })).toThrow(
      'requestTimeout must be a finite number of ms above 0; got NaN',
    );
  });

  it("turns an answer into one outcome per record, in the input's order, and names the stream", async () => {
    const { client, commands } = clientAnswering(
      answered([
        { ShardId: 'shardId-000000000001', SequenceNumber: '49' },
        { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' },
      ]),
    );
    const outcome = await new Sender(client, stream, { maxConnections: 1, requestTimeout: 1000 }).send(records(3));
    expect(outcome.kind).toBe('sent');
    if (outcome.kind !== 'sent') return;
    expect(outcome.records).toEqual([
      { shardId: 'shardId-000000000001', sequenceNumber: '49' },
      { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded' },
      { errorCode: 'InternalFailure', errorMessage: 'PutRecords answered with fewer results than records sent' },
    ]);
    // The records go in the body that the sender's middleware sets, not through the SDK's serialiser.
    expect(commands[0]?.input).toEqual({ StreamName: 'telemetry', Records: [] });
  });

  it('counts requests in flight against maxConnections', async () => {
    let finish!: () => void;
    const { client } = clientAnswering(
      () =>
        new Promise((resolve) => {
          finish = () => resolve({ Records: [] });
        }),
      hanging,
    );
    const sender = new Sender(client, stream, { maxConnections: 2, requestTimeout: 60_000 });
    expect(sender.hasCapacity).toBe(true);
    const first = sender.send(records(1));
    expect(sender.inFlight).toBe(1);
    expect(sender.hasCapacity).toBe(true);
    const second = sender.send(records(1));
    expect(sender.inFlight).toBe(2);
    expect(sender.hasCapacity).toBe(false);
    finish();
    await first;
    expect(sender.inFlight).toBe(1);
    expect(sender.hasCapacity).toBe(true);
    sender.close();
    await second;
    expect(sender.inFlight).toBe(0);
  });

  it('aborts a request that gets no answer within requestTimeout and fails it with RequestTimeout', async () => {
    const { client } = clientAnswering(hanging);
    const sending = new Sender(client, stream, { maxConnections: 1, requestTimeout: 2000 }).send(records(2));
    await vi.advanceTimersByTimeAsync(1999);
    let settled = false;
    void sending.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await sending).toMatchObject({ kind: 'failed', errorCode: REQUEST_TIMEOUT_ERROR_CODE });
    expect(((await sending) as { errorMessage: string }).errorMessage).toContain('2000 ms');
  });

  it('on close() fails the requests in flight with ProducerClosed, and refuses later ones without calling Kinesis', async () => {
    const { client, commands } = clientAnswering(hanging);
    const sender = new Sender(client, stream, { maxConnections: 1, requestTimeout: 60_000 });
    const sending = sender.send(records(1));
    sender.close();
    expect(await sending).toMatchObject({ kind: 'failed', errorCode: PRODUCER_CLOSED_ERROR_CODE });
    expect(await sender.send(records(1))).toMatchObject({ kind: 'failed', errorCode: PRODUCER_CLOSED_ERROR_CODE });
    expect(commands).toHaveLength(1);
  });

  it("fails a request that Kinesis or the network refused with the error's code, and never rejects", async () => {
    const { client } = clientAnswering(
      () => Promise.reject(Object.assign(new Error('Stream telemetry not found'), { name: 'ResourceNotFoundException' })),
      () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })),
      () => Promise.reject(new Error('')),
    );
    const sender = new Sender(client, stream, { maxConnections: 1, requestTimeout: 1000 });
    expect(await sender.send(records(1))).toMatchObject({
      kind: 'failed',
      errorCode: 'ResourceNotFoundException',
      errorMessage: 'Stream telemetry not found',
    });
    expect(await sender.send(records(1))).toMatchObject({ kind: 'failed', errorCode: 'ECONNREFUSED' });
    expect(await sender.send(records(1))).toMatchObject({ kind: 'failed', errorCode: 'UnknownError' });
    expect(sender.inFlight).toBe(0);
  });
});
