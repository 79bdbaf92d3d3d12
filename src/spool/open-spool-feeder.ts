import type { Registry } from 'prom-client';
import type { ResolvedConfig } from '../config.js';
import type { SpoolFeederHost } from './feeder-host.js';
import { SpoolFeeder } from './spool-feeder.js';
import { registerSpoolMetrics } from './spool-metrics.js';
import { Spool } from './spool.js';

export { SpoolFeeder } from './spool-feeder.js';

/**
 * Opens the producer's spool (taking its lock and recovering what an earlier process left), registers
 * its metrics, and starts feeding the pipeline from it, recovered records first.
 * @throws SpoolLockedError or SpoolWriteError when the directory is taken or cannot be written.
 */
export function openSpoolFeeder(config: ResolvedConfig, registry: Registry, host: SpoolFeederHost): SpoolFeeder {
  const options = config.spool;
  if (options === undefined) throw new Error('openSpoolFeeder needs config.spool');
  const spool = Spool.open({
    directory: options.directory,
    maxBytes: options.maxBytes,
    maxAgeMs: options.maxAgeMs,
    syncIntervalMs: options.syncIntervalMs,
    ...(config.logger !== undefined ? { logger: config.logger } : {}),
  });
  if (config.metricsLevel !== 'none') registerSpoolMetrics(registry, () => spool.stats);
  const feeder = new SpoolFeeder(spool, host, {
    failIfThrottled: config.failIfThrottled,
    maxWaitingAdds: config.maxOutstandingRecords,
    retryDelayMs: config.retry.maxDelayMs,
    onFailure: options.onFailure,
    logger: config.logger,
  });
  feeder.start();
  return feeder;
}
