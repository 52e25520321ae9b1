import type { Interfaces } from '@oclif/core';
import type { ReadStream, WriteStream } from 'node:tty';
import { ExitCode, UsageError } from '../core/errors.ts';
import { TuiApp } from '../tui/app.ts';
import { oneLine } from '../tui/poller.ts';
import { RpcSource } from '../tui/rpc-source.ts';
import { Terminal } from '../tui/terminal.ts';
import { themeFromEnv } from '../tui/theme.ts';
import { parseSize } from './flags.ts';
import type Tui from './tui.ts';

type TuiFlags = Interfaces.InferredFlags<typeof Tui.flags>;

/** What `shoal tui` does (the flags and help live in tui.ts): runs until q, Ctrl-C or a signal. */
export async function tui(flags: TuiFlags): Promise<void> {
  if (flags.interval < 250) throw new UsageError('--interval must be at least 250ms');
  if (!process.stdin.isTTY || !process.stdout.isTTY)
    throw new UsageError(
      'shoal tui needs a terminal on stdin and stdout (use shoal remote ls in scripts)',
    );
  if (process.env.TERM === 'dumb')
    throw new UsageError(
      'shoal tui cannot draw on TERM=dumb (it moves the cursor); use shoal remote ls',
    );
  const source = new RpcSource(flags.rpc, flags['rpc-auth']);
  const terminal = new Terminal(process.stdin as ReadStream, process.stdout as WriteStream);
  const app = new TuiApp({
    source,
    screen: { size: () => terminal.size, write: (text) => terminal.write(text) },
    theme: themeFromEnv(process.env),
    intervalMs: flags.interval,
    parseSize: (text) => parseSize(text, 'limit'),
  });
  // A bug must not leave the terminal raw and on the alternate screen, nor print a stack trace there.
  const crash = (error: unknown) => {
    terminal.restore();
    process.stderr.write(`shoal tui: internal error: ${oneLine(error)}\n`);
    process.exit(ExitCode.internal);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  terminal.enter({
    onKeys: (data) => app.input(data),
    onResize: () => app.resize(),
    onExitSignal: () => {
      app.stop();
      process.exit(ExitCode.interrupted);
    },
  });
  app.start();
  try {
    await app.done;
  } finally {
    app.stop();
    terminal.restore();
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
  }
}
