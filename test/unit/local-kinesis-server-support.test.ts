import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { answerWithFault } from '../../src/testing/fault-answers.js';
import { endpointHost, sendAnswer, sendInternalFailure, Sleeps, upstreamError } from '../../src/testing/server-support.js';
import { StatsRecorder } from '../../src/testing/stats.js';
import { codecFor } from '../../src/testing/wire.js';

afterEach(() => {
  vi.useRealTimers();
});

const json = codecFor({ 'content-type': 'application/x-amz-json-1.1' });

/** A ServerResponse that keeps what was written to it. */
function fakeResponse(
  headersSent = false,
): ServerResponse & { status?: number; headers?: Record<string, unknown>; body?: string; dropped: boolean } {
  const response = {
    headersSent,
    destroyed: false,
    dropped: false,
    writeHead(status: number, headers: Record<string, unknown>) {
      Object.assign(response, { status, headers });
      return response;
    },
    end(body: Buffer | string) {
      Object.assign(response, { body: body.toString() });
      return response;
    },
    destroy() {
      response.dropped = true;
      return response;
    },
  };
  return response as never;
}

describe('endpointHost', () => {
  it('is loopback for an any-address server, and brackets IPv6', () => {
    const address = (address: string, family: string): AddressInfo => ({ address, family, port: 1 });
    expect(endpointHost(address('0.0.0.0', 'IPv4'))).toBe('127.0.0.1');
    expect(endpointHost(address('::', 'IPv6'))).toBe('[::1]');
    expect(endpointHost(address('::1', 'IPv6'))).toBe('[::1]');
    expect(endpointHost(address('127.0.0.1', 'IPv4'))).toBe('127.0.0.1');
  });
});

describe('sendAnswer', () => {
  it('sends an error answer as an AWS error, and anything else as its body', () => {
    const failed = fakeResponse();
    sendAnswer(failed, json, { status: 400, body: { __type: 'ResourceNotFoundException', message: 'no stream' } });
    expect(failed.status).toBe(400);
    expect(failed.headers?.['x-amzn-errortype']).toBe('ResourceNotFoundException');
    expect(JSON.parse(failed.body as string)).toEqual({ __type: 'ResourceNotFoundException', message: 'no stream' });
    const answered = fakeResponse();
    sendAnswer(answered, json, { status: 200, body: { Shards: [] } });
    expect(answered.status).toBe(200);
    expect(answered.body).toBe('{"Shards":[]}');
  });
});

describe('sendInternalFailure', () => {
  it('answers InternalFailure naming the error, or drops the connection once the answer began', () => {
    const response = fakeResponse();
    sendInternalFailure(response, new Error('boom'));
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body as string)).toEqual({ __type: 'InternalFailure', message: 'LocalKinesis: boom' });
    const begun = fakeResponse(true);
    sendInternalFailure(begun, new Error('late'));
    expect(begun.dropped).toBe(true);
  });
});

describe('upstreamError', () => {
  it("names the operation, the stream and kinesalite's error", () => {
    const body = Buffer.from(JSON.stringify({ __type: 'ResourceInUseException', message: 'Stream s already exists' }));
    expect(upstreamError('CreateStream', 's', body).message).toBe(
      'CreateStream of stream s failed: ResourceInUseException: Stream s already exists',
    );
    expect(upstreamError('CreateStream', 's', Buffer.from('oops')).message).toBe('CreateStream of stream s failed: oops');
  });
});

describe('Sleeps', () => {
  it('resolves after its time, or at once on wakeAll', async () => {
    vi.useFakeTimers();
    const sleeps = new Sleeps();
    let slept = 0;
    void sleeps.sleep(100).then(() => slept++);
    void sleeps.sleep(10_000).then(() => slept++);
    await vi.advanceTimersByTimeAsync(100);
    expect(slept).toBe(1);
    sleeps.wakeAll();
    await Promise.resolve();
    expect(slept).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('answerWithFault', () => {
  it('answers 500 and 503 as the service does, resets or hangs the connection, and counts each', () => {
    const stats = new StatsRecorder();
    const reset = vi.fn();
    const request = { socket: { resetAndDestroy: reset } } as unknown as IncomingMessage;
    const internal = fakeResponse();
    answerWithFault('internalFailure', request, internal, json, stats);
    expect([internal.status, internal.headers?.['x-amzn-errortype']]).toEqual([500, 'InternalFailure']);
    const unavailable = fakeResponse();
    answerWithFault('serviceUnavailable', request, unavailable, json, stats);
    expect([unavailable.status, unavailable.headers?.['x-amzn-errortype']]).toEqual([503, 'ServiceUnavailable']);
    answerWithFault('connectionReset', request, fakeResponse(), json, stats);
    expect(reset).toHaveBeenCalledOnce();
    const hung = fakeResponse();
    answerWithFault('hang', request, hung, json, stats);
    expect(hung.status).toBeUndefined();
    expect(stats.live.faults).toMatchObject({ internalFailure: 1, serviceUnavailable: 1, connectionReset: 1, hang: 1 });
  });
});
