import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerTailMetrics } from '../../src/cli/tail/tail-metrics.js';
import { TailStats } from '../../src/cli/tail/tail-stats.js';

describe('kpl_tail_* metrics', () => {
  it('publishes lines read, lines truncated, rotations, bytes behind and the checkpoint age at scrape time', async () => {
    const registry = new Registry();
    const stats = new TailStats(() => undefined);
    stats.onLines('web', 120, 2);
    stats.onRotation('web', 'rename');
    stats.onRotation('web', 'truncate');
    stats.onRotation('web', 'rename');
    registerTailMetrics(registry, {
      flows: stats.flows,
      bytesBehind: () => [{ flow: 'web', path: '/var/log/access_log', bytes: 4096 }],
      checkpointAgeSeconds: () => 0.5,
    });
    stats.onLines('web', 30, 0);
    const text = await registry.metrics();
    expect(text).toContain('kpl_tail_lines_read_total{flow="web"} 150');
    expect(text).toContain('kpl_tail_lines_truncated_total{flow="web"} 2');
    expect(text).toContain('kpl_tail_rotations_total{flow="web",kind="rename"} 2');
    expect(text).toContain('kpl_tail_rotations_total{flow="web",kind="truncate"} 1');
    expect(text).toContain('kpl_tail_bytes_behind{flow="web",file="/var/log/access_log"} 4096');
    expect(text).toContain('kpl_tail_checkpoint_age_seconds 0.5');
  });

  it('has no checkpoint age without a checkpoint', async () => {
    const registry = new Registry();
    registerTailMetrics(registry, { flows: new Map(), bytesBehind: () => [] });
    expect(await registry.metrics()).not.toContain('kpl_tail_checkpoint_age_seconds');
  });
});
