import { performance } from 'node:perf_hooks';
import { ListShardsCommand, PutRecordCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalKinesis, type LocalKinesisOptions } from '../../src/testing/index.js';
import { createKinesisClient, readAllRecords } from '../support/index.js';

const STREAM = 'faulty';
const started: Array<{ kinesis: LocalKinesis; client: KinesisClient }> = [];

afterEach(async () => {
  for (const { kinesis, client } of started.splice(0)) {
    client.destroy();
    await kinesis.close();
  }
});

async function start(
  options: LocalKinesisOptions,
  clientOptions: Parameters<typeof createKinesisClient>[1] = {},
): Promise<{ kinesis: LocalKinesis; client: KinesisClient }> {
  const kinesis = await LocalKinesis.start({ streams: [{ name: STREAM, shards: 2 }], ...options });
  const client = createKinesisClient(kinesis.endpoint, clientOptions);
  started.push({ kinesis, client });
  return { kinesis, client };
}

function records(count: number, prefix = 'key'): Array<{ PartitionKey: string; Data: Uint8Array }> {
  return Array.from({ length: count }, (_, i) => ({ PartitionKey: `${prefix}-${i}`, Data: new TextEncoder().encode(`${prefix} ${i}`) }));
}

function putRecords(client: KinesisClient, count = 10) {
  return client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records(count) }));
}

describe('LocalKinesis faults, seen through a real SDK client', () => {
  it('answers HTTP 500 InternalFailure', async () => {
    const { kinesis, client } = await start({ faults: { internalFailureRate: 1 } });
    await expect(putRecords(client)).rejects.toMatchObject({
      name: 'InternalFailure',
      $metadata: { httpStatusCode: 500 },
    });
    expect(kinesis.stats().faults.internalFailure).toBe(1);
    expect(await readAllRecords(client, STREAM)).toEqual([]);
  });

  it('answers HTTP 503 ServiceUnavailable', async () => {
    const { kinesis, client } = await start({ faults: { serviceUnavailableRate: 1 } });
    await expect(putRecords(client)).rejects.toMatchObject({
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
    expect(kinesis.stats().faults.serviceUnavailable).toBe(1);
  });

  it('fails single records with InternalFailure and stores the others', async () => {
    const { kinesis, client } = await start({ faults: { recordFailureRate: 0.3 }, seed: 7 });
    const answer = await putRecords(client, 200);
    const failed = answer.Records?.filter((result) => result.ErrorCode !== undefined) ?? [];
    expect(failed.length).toBeGreaterThan(20);
    expect(failed.length).toBeLessThan(100);
    expect(answer.FailedRecordCount).toBe(failed.length);
    for (const result of failed) {
      expect(result).toMatchObject({ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' });
    }
    expect(kinesis.stats()).toMatchObject({ failedRecords: failed.length, acceptedRecords: 200 - failed.length });
    expect(await readAllRecords(client, STREAM)).toHaveLength(200 - failed.length);
  });

  it('fails a PutRecord whole with HTTP 500 for a per-record failure', async () => {
    const { client } = await start({ faults: { recordFailureRate: 1 } });
    await expect(
      client.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: new Uint8Array(1) })),
    ).rejects.toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });
  });

  it('repeats the same per-record failures for the same seed', async () => {
    const outcomes: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const { client } = await start({ faults: { recordFailureRate: 0.5 }, seed: 42 });
      const answer = await putRecords(client, 50);
      outcomes.push(answer.Records?.map((result) => result.ErrorCode ?? 'ok') ?? []);
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(new Set(outcomes[0])).toEqual(new Set(['ok', 'InternalFailure']));
  });

  it('adds latency', async () => {
    const { kinesis, client } = await start({ faults: { latencyMs: 150 } });
    const before = performance.now();
    await putRecords(client);
    expect(performance.now() - before).toBeGreaterThanOrEqual(145);
    expect(kinesis.stats().faults.delayed).toBe(1);
  });

  it('resets connections', async () => {
    const { kinesis, client } = await start({ faults: { connectionResetRate: 1 } });
    await expect(putRecords(client)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(kinesis.stats().faults.connectionReset).toBe(1);
    expect(await readAllRecords(client, STREAM)).toEqual([]);
  });

  it('leaves requests unanswered until the client gives up', async () => {
    const { kinesis, client } = await start({ faults: { hangRate: 1 } }, { requestTimeoutMs: 300 });
    await expect(putRecords(client)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(kinesis.stats().faults.hang).toBe(1);
  });

  it('faults only writes by default, and every operation with operations: all', async () => {
    const { kinesis, client } = await start({ faults: { internalFailureRate: 1 } });
    await expect(client.send(new ListShardsCommand({ StreamName: STREAM }))).resolves.toBeDefined();
    kinesis.setFaults({ internalFailureRate: 1, operations: 'all' });
    await expect(client.send(new ListShardsCommand({ StreamName: STREAM }))).rejects.toMatchObject({
      name: 'InternalFailure',
    });
  });

  it('changes faults at runtime with setFaults, and turns omitted ones off', async () => {
    const { kinesis, client } = await start({ faults: { internalFailureRate: 1 } });
    await expect(putRecords(client)).rejects.toMatchObject({ name: 'InternalFailure' });
    kinesis.setFaults({});
    await expect(putRecords(client)).resolves.toMatchObject({ FailedRecordCount: 0 });
    kinesis.setFaults({ serviceUnavailableRate: 1 });
    await expect(putRecords(client)).rejects.toMatchObject({ name: 'ServiceUnavailable' });
  });

  it('mixes request faults at their rates', async () => {
    const { kinesis, client } = await start({
      faults: { internalFailureRate: 0.2, serviceUnavailableRate: 0.2, connectionResetRate: 0.2 },
      seed: 3,
    });
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const outcome = await putRecords(client, 1).then(
        () => 'ok',
        (error: { name?: string; code?: string }) => error.code ?? error.name ?? 'unknown',
      );
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect([...outcomes.keys()].sort()).toEqual(['ECONNRESET', 'InternalFailure', 'ServiceUnavailable', 'ok']);
    const { faults } = kinesis.stats();
    expect(faults.internalFailure).toBe(outcomes.get('InternalFailure'));
    expect(faults.serviceUnavailable).toBe(outcomes.get('ServiceUnavailable'));
    expect(faults.connectionReset).toBe(outcomes.get('ECONNRESET'));
  });

  it('rejects out-of-range options, naming the field', async () => {
    await Promise.all([
      expect(LocalKinesis.start({ faults: { hangRate: 2 } })).rejects.toThrow('faults.hangRate must be a number from 0 to 1, got 2'),
      expect(LocalKinesis.start({ faults: { internalFailureRate: 0.6, hangRate: 0.6 } })).rejects.toThrow('add up to 1.2'),
      expect(LocalKinesis.start({ limits: { recordsPerSecond: 0 } })).rejects.toThrow('limits.recordsPerSecond'),
      expect(LocalKinesis.start({ prot: 1 } as LocalKinesisOptions)).rejects.toThrow('LocalKinesis option prot is unknown'),
    ]);
  });
});

describe('LocalKinesis outages', () => {
  it('refuses connections during an outage and serves on the same port after it', async () => {
    const { kinesis, client } = await start({});
    await expect(putRecords(client)).resolves.toMatchObject({ FailedRecordCount: 0 });

    await kinesis.setOutage(true);
    expect(kinesis.down).toBe(true);
    // A pooled connection may not have seen its close yet and fail with a reset; a new one is refused.
    await expect(putRecords(client)).rejects.toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|ECONNREFUSED)$/) });
    const freshClient = createKinesisClient(kinesis.endpoint);
    await expect(putRecords(freshClient)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    freshClient.destroy();

    await kinesis.setOutage(false);
    expect(kinesis.down).toBe(false);
    await expect(putRecords(client)).resolves.toMatchObject({ FailedRecordCount: 0 });
    expect(kinesis.endpoint).toBe(`http://127.0.0.1:${kinesis.port}`);
    expect(await readAllRecords(client, STREAM)).toHaveLength(20);
    expect(kinesis.stats().faults.outages).toBe(1);
  });

  it('drops requests in flight when an outage starts', async () => {
    const { kinesis, client } = await start({ faults: { hangRate: 1 } }, { requestTimeoutMs: 10_000 });
    const hanging = putRecords(client).catch((error: { code?: string }) => error.code);
    while (kinesis.stats().faults.hang === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await kinesis.setOutage(true);
    expect(await hanging).toBe('ECONNRESET');
    await kinesis.setOutage(false);
  });

  it('ends an outage(ms) by itself', async () => {
    const { kinesis, client } = await start({});
    const outage = kinesis.outage(200);
    while (!kinesis.down) await new Promise((resolve) => setTimeout(resolve, 1));
    await expect(putRecords(client)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await outage;
    await expect(putRecords(client)).resolves.toMatchObject({ FailedRecordCount: 0 });
  });
});

describe('LocalKinesis close()', () => {
  it('closes every socket, hanging requests too, and leaves no handle behind', async () => {
    const handles = (): string[] => process.getActiveResourcesInfo().filter((name) => name === 'TCPServerWrap' || name === 'TCPSocketWrap');
    // Sockets of earlier tests finish closing first.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = handles().length;
    const kinesis = await LocalKinesis.start({ streams: [{ name: STREAM, shards: 1 }], faults: { hangRate: 1 } });
    const client = createKinesisClient(kinesis.endpoint, { requestTimeoutMs: 30_000 });
    const hanging = putRecords(client).catch((error: { code?: string }) => error.code);
    while (kinesis.stats().faults.hang === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    await kinesis.close();
    expect(await hanging).toBe('ECONNRESET');
    client.destroy();
    const lateClient = createKinesisClient(kinesis.endpoint);
    await expect(putRecords(lateClient)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    lateClient.destroy();
    await kinesis.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handles().length).toBeLessThanOrEqual(before);
  });

  it('can close during an outage and during an outage(ms)', async () => {
    const kinesis = await LocalKinesis.start();
    const outage = kinesis.outage(60_000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await kinesis.close();
    await outage;
  });
});
