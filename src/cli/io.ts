/** What a `kpl` command reads and writes; the process's own streams, or test doubles. */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** True when stderr is a terminal, where a progress bar can redraw itself. */
  readonly stderrIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Calls `handler` on SIGINT or SIGTERM, or when the parent process that spawned this one with an
   * IPC channel goes away, until the returned function is called.
   */
  onStopSignal(handler: (signal: NodeJS.Signals) => void): () => void;
}

/** The process's streams, environment and signals. */
export function processIo(): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    onStopSignal(handler) {
      const onDisconnect = (): void => handler('SIGTERM');
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      process.on('disconnect', onDisconnect);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
        process.off('disconnect', onDisconnect);
      };
    },
  };
}
