import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * Stops a child process: SIGTERM, then SIGKILL if it has not exited after `killAfterMs` (a server
 * holding a keep-alive connection may ignore SIGTERM). Resolves when it has exited.
 */
export async function stopChild(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  try {
    await exited;
  } finally {
    clearTimeout(killer);
  }
}
