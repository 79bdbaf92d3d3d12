import { onTestFinished } from 'vitest';
import { KinesisProducer } from '../../src/index.js';
import type { ProducerConfig } from '../../src/config.js';

/** A producer for a local endpoint that is closed when the test ends, whatever happens in it. */
export function createProducer(endpoint: string, config: Omit<ProducerConfig, 'endpoint'>): KinesisProducer {
  const producer = new KinesisProducer({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    metricsLevel: 'none',
    ...config,
  });
  onTestFinished(async () => {
    await producer.close();
  });
  return producer;
}
