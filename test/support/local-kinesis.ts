import { onTestFinished } from 'vitest';
import { LocalKinesis, type LocalKinesisOptions } from '../../src/testing/index.js';

/** Starts LocalKinesis for the running test and closes it when the test finishes, passed or failed. */
export async function startLocalKinesis(options: LocalKinesisOptions): Promise<LocalKinesis> {
  const kinesis = await LocalKinesis.start(options);
  onTestFinished(() => kinesis.close());
  return kinesis;
}
