import type { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/config.js';
import { LARGEST_RECORD_BYTES, MAX_RECORD_BYTES } from '../../src/format/limits.js';
import { StreamLimitsTracker } from '../../src/pipeline/stream-limits.js';

type Answer = () => Promise<unknown>;

/** A client whose DescribeStreamSummary answers come from `answers`, in turn; it counts the calls and keeps their input. */
function clientAnswering(...answers: Answer[]) {
  const calls: unknown[] = [];
  const client = {
    send(command: DescribeStreamSummaryCommand) {
      calls.push(command.input);
      const answer = answers[Math.min(calls.length, answers.length) - 1];
      if (answer === undefined) throw new Error('no answer scripted');
      return answer();
    },
  } as unknown as KinesisClient;
  return { client, calls };
}

function summary(kib: number | undefined, mode = 'ON_DEMAND', status = 'ACTIVE'): Answer {
  return () =>
    Promise.resolve({
      StreamDescriptionSummary: { MaxRecordSizeInKiB: kib, StreamModeDetails: { StreamMode: mode }, StreamStatus: status },
    });
}

function failure(name: string): Answer {
  return () => Promise.reject(Object.assign(new Error(`${name} said no`), { name }));
}

function recordingLogger() {
  const warnings: Array<{ message: string; fields: Record<string, unknown> | undefined }> = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message, fields) => warnings.push({ message, fields }),
    error: () => undefined,
  };
  return { logger, warnings };
}

describe('StreamLimitsTracker', () => {
  it("holds the service's 1 MiB default until a read succeeds, then the stream's own limit, mode and status", async () => {
    const { client, calls } = clientAnswering(summary(10_240, 'PROVISIONED', 'UPDATING'));
    const tracker = new StreamLimitsTracker(client, { streamName: 'telemetry' });
    expect(tracker.known).toBe(false);
    expect(tracker.current.maxRecordBytes).toBe(MAX_RECORD_BYTES);
    const limits = await tracker.refresh();
    expect(calls).toEqual([{ StreamName: 'telemetry' }]);
    expect(tracker.known).toBe(true);
    expect(limits).toMatchObject({
      maxRecordBytes: 10 * 1024 * 1024,
      source: 'stream',
      streamMode: 'PROVISIONED',
      streamStatus: 'UPDATING',
    });
    expect(limits.description).toBe('MaxRecordSizeInKiB 10,240 of stream telemetry');
  });

  it('caps a larger MaxRecordSizeInKiB at 10 MiB, and reads a missing one as 1 MiB', async () => {
    expect((await new StreamLimitsTracker(clientAnswering(summary(20_480)).client, { streamName: 's' }).refresh()).maxRecordBytes).toBe(
      LARGEST_RECORD_BYTES,
    );
    expect((await new StreamLimitsTracker(clientAnswering(summary(undefined)).client, { streamName: 's' }).refresh()).maxRecordBytes).toBe(
      MAX_RECORD_BYTES,
    );
  });

  it('names the stream by its ARN where it was given one', async () => {
    const arn = 'arn:aws:kinesis:us-east-1:123456789012:stream/telemetry';
    const { client, calls } = clientAnswering(summary(2048));
    expect((await new StreamLimitsTracker(client, { streamARN: arn }).refresh()).description).toBe(
      `MaxRecordSizeInKiB 2,048 of stream ${arn}`,
    );
    expect(calls).toEqual([{ StreamARN: arn }]);
  });

  it('never calls with the maxRecordSize option: the option is the limit', async () => {
    const { client, calls } = clientAnswering(summary(10_240));
    const tracker = new StreamLimitsTracker(client, { streamName: 's' }, { maxRecordSize: 5_000_000 });
    expect(tracker.known).toBe(true);
    expect(await tracker.refresh()).toMatchObject({ maxRecordBytes: 5_000_000, source: 'option' });
    expect(calls).toHaveLength(0);
  });

  it('joins a read in flight instead of calling again', async () => {
    const { client, calls } = clientAnswering(summary(4096));
    const tracker = new StreamLimitsTracker(client, { streamName: 's' });
    const [first, second] = await Promise.all([tracker.refresh(), tracker.refresh()]);
    expect(first).toBe(second);
    expect(calls).toHaveLength(1);
  });

  it('when DescribeStreamSummary is denied, says so once, keeps 1 MiB and never calls again', async () => {
    const { logger, warnings } = recordingLogger();
    const { client, calls } = clientAnswering(failure('AccessDeniedException'));
    const tracker = new StreamLimitsTracker(client, { streamName: 's' }, { logger });
    expect(await tracker.refresh()).toMatchObject({ maxRecordBytes: MAX_RECORD_BYTES, source: 'default' });
    await tracker.refresh();
    expect(calls).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('denied');
    expect(warnings[0]?.fields).toMatchObject({ stream: 's', errorCode: 'AccessDeniedException' });
  });

  it('after another failure logs once, keeps the default, and the next refresh tries again', async () => {
    const { logger, warnings } = recordingLogger();
    const { client, calls } = clientAnswering(failure('InternalFailure'), failure('InternalFailure'), summary(2048));
    const tracker = new StreamLimitsTracker(client, { streamName: 's' }, { logger });
    expect((await tracker.refresh()).source).toBe('default');
    expect((await tracker.refresh()).source).toBe('default');
    expect((await tracker.refresh()).maxRecordBytes).toBe(2 * 1024 * 1024);
    expect(calls).toHaveLength(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ errorCode: 'InternalFailure' });
  });

  it('after close() a read in flight resolves with what it had, and refresh() no longer calls', async () => {
    let reject!: (error: Error) => void;
    const { client, calls } = clientAnswering(
      () =>
        new Promise((_, fail) => {
          reject = fail;
        }),
    );
    const { logger, warnings } = recordingLogger();
    const tracker = new StreamLimitsTracker(client, { streamName: 's' }, { logger });
    const reading = tracker.refresh();
    tracker.close();
    reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    expect((await reading).source).toBe('default');
    expect((await tracker.refresh()).source).toBe('default');
    expect(calls).toHaveLength(1);
    expect(warnings).toHaveLength(0);
  });
});
