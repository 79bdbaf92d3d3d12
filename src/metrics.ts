import type { Registry } from 'prom-client';
import type { PipelineObserver, RequestReport } from './stream-pipeline.js';

/** How the producer's metrics are kept. */
export interface ProducerMetricsOptions {
  readonly registry: Registry;
  readonly level: 'summary' | 'detailed';
  readonly granularity: 'global' | 'stream' | 'shard';
  /** Reads the number of user records accepted and not yet settled. */
  readonly pending: () => number;
}

/** The KPL's metrics in Prometheus form. PLACEHOLDER API: being implemented. */
export class ProducerMetrics implements PipelineObserver {
  constructor(readonly options: ProducerMetricsOptions) {}

  /** One user record accepted by add(). Hot path: must cost a field increment. */
  recordReceived(_stream: string): void {}

  requestCompleted(_report: RequestReport): void {}

  recordsFailed(_stream: string, _errorCode: string, _count: number, _expired: boolean): void {}
}
