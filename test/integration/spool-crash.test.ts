import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKinesis } from '../../src/testing/index.js';
import { createRandom, type Random } from '../../src/testing/random.js';
import { compileCli, type CompiledCli, spawnKpl } from '../support/compiled-cli.js';
import { createKinesisClient } from '../support/index.js';
import { readBackLikeKcl } from '../support/kcl-read-back.js';

/*
 * `kpl send --spool` as a forwarder on a gateway, killed with SIGKILL at random moments, then started
 * again on the same spool. Every line whose enqueue() had resolved (the child prints `durable N`
 * after the fsync that covers the first N lines) must arrive, read back as the KCL reads; a line
 * may arrive twice only if it was in flight (in the window, sent but not yet acknowledged) at a kill.
 */
const SEEDS = Number(process.env['KPL_SPOOL_CRASH_SEEDS'] ?? 8);
/** No seed starts after this much time: the loop is bounded in time as well as in count. */
const TIME_BUDGET_MS = 150_000;
const LINES = 20_000;
const WINDOW = 2000;
const SCENARIOS = ['outage', 'delivering', 'fsync storm', 'killed while draining'] as const;
type Scenario = (typeof SCENARIOS)[number];

describe('kpl send --spool killed with SIGKILL', () => {
  let cli: CompiledCli;
  let kinesis: LocalKinesis;
  let spools: string;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    [cli, kinesis] = await Promise.all([compileCli(), LocalKinesis.start()]);
    spools = await mkdtemp(path.join(tmpdir(), 'kpl-crash-'));
  }, 180_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await kinesis?.close();
    await cli?.remove();
    await rm(spools, { recursive: true, force: true });
  });

  const start = (args: readonly string[], input: boolean): { child: ChildProcess; durable: () => number; stderr: () => string } => {
    const child = spawnKpl(cli.main, ['send', '--endpoint', kinesis.endpoint, ...args], { stdin: input ? 'pipe' : 'ignore' });
    children.add(child);
    child.once('exit', () => children.delete(child));
    let durable = 0;
    let stderr = '';
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^durable (\d+)$/.exec(line);
        if (match !== null) durable = Math.max(durable, Number(match[1]));
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdin?.on('error', () => undefined);
    return { child, durable: () => durable, stderr: () => stderr };
  };

  const kill = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };

  /** Writes the lines as fast as the child reads them, until they are all written or the child dies. */
  const feed = async (child: ChildProcess, seed: number): Promise<void> => {
    const stdin = child.stdin;
    if (stdin === null) return;
    for (let i = 0; i < LINES && child.exitCode === null && child.signalCode === null; i++) {
      const line = `{"k":"key-${i % 50}","id":"${seed}:${i}","pad":"${'x'.repeat(60)}"}\n`;
      if (!stdin.write(line)) {
        // events.once rejects on 'error' (EPIPE once the child is dead): that only ends the feeding.
        await Promise.race([once(stdin, 'drain'), once(child, 'exit')]).catch(() => undefined);
      }
    }
  };

  const runSeed = async (seed: number): Promise<{ scenario: Scenario; durable: number; duplicates: number; kills: number }> => {
    const random: Random = createRandom(seed);
    const scenario = SCENARIOS[seed % SCENARIOS.length] as Scenario;
    const stream = `crash-${seed}`;
    await kinesis.createStream(stream, 2);
    const spool = path.join(spools, stream);
    const args = ['--stream', stream, '--spool', spool, '--key-field', 'k', '--max-outstanding', String(WINDOW), '--linger', '20'];
    if (scenario === 'outage') await kinesis.setOutage(true);
    const first = start([...args, '--report-durable', ...(scenario === 'fsync storm' ? ['--spool-sync', '0'] : [])], true);
    void feed(first.child, seed);
    // Wait until it has spooled something, then a random while longer, then kill.
    const deadline = Date.now() + 20_000;
    while (first.durable() === 0 && Date.now() < deadline && first.child.exitCode === null) await sleep(20);
    await sleep(50 + random() * 1200);
    await kill(first.child);
    const durable = first.durable();
    let kills = 1;
    if (scenario === 'outage') await kinesis.setOutage(false);
    if (scenario === 'killed while draining') {
      const draining = start(args, false);
      await sleep(300 + random() * 1500);
      await kill(draining.child);
      kills++;
    }
    const last = start(args, false);
    const [code] = (await Promise.race([once(last.child, 'exit'), sleep(90_000).then(() => ['timeout'])])) as [number | string];
    expect(code, `seed ${seed} (${scenario}): the draining run ended with ${String(code)}; stderr: ${last.stderr()}`).toBe(0);
    expect(last.stderr()).toContain(' 0 waiting in the spool');

    const client = createKinesisClient(kinesis.endpoint);
    const texts = await readBackLikeKcl(client, stream);
    client.destroy();
    const seen = new Map<number, number>();
    for (const text of texts) {
      const match = /"id":"(\d+):(\d+)"/.exec(text);
      expect(match?.[1], `a record of another seed: ${text}`).toBe(String(seed));
      const index = Number(match?.[2]);
      seen.set(index, (seen.get(index) ?? 0) + 1);
    }
    const missing: number[] = [];
    for (let i = 0; i < durable; i++) if (!seen.has(i)) missing.push(i);
    expect(missing, `seed ${seed} (${scenario}): durable lines lost (durable ${durable})`).toEqual([]);
    let duplicates = 0;
    for (const count of seen.values()) {
      expect(count).toBeLessThanOrEqual(kills + 1);
      duplicates += count - 1;
    }
    // Only what was in flight at a kill repeats: at most the window, per kill; nothing at all when
    // the link was down at the only kill (nothing was in flight to Kinesis then).
    if (scenario === 'outage') expect(duplicates, `seed ${seed}: duplicates after an outage kill`).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(WINDOW * kills);
    return { scenario, durable, duplicates, kills };
  };

  it(`loses no durable line over ${SEEDS} seeds of kills during outages, delivery, fsync storms and draining`, async () => {
    const began = Date.now();
    const outcomes: string[] = [];
    for (let seed = 1; seed <= SEEDS && Date.now() - began < TIME_BUDGET_MS; seed++) {
      const { scenario, durable, duplicates, kills } = await runSeed(seed);
      outcomes.push(`seed ${seed} ${scenario}: ${durable} durable at the kill, ${duplicates} repeated, ${kills} kill(s)`);
    }
    console.log(outcomes.join('\n'));
    expect(outcomes.length).toBeGreaterThanOrEqual(Math.min(SEEDS, 4));
  }, 400_000);
});
