/**
 * startOnFreePort (test/helpers/listening.ts): a program that cannot report its
 * port counts as started only once it listens there itself.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { spawnTracked, trackProcesses, type Proc } from './cli.ts';
import { listensOn, startOnFreePort } from './listening.ts';
import { freePort } from './ports.ts';

trackProcesses();

/** A node child that listens on `port` (or not at all) and stays until killed. */
function child(name: string, port: number | undefined): Proc {
  const script =
    port === undefined
      ? 'setInterval(() => {}, 1000)'
      : `require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('UP'))`;
  return spawnTracked(name, process.execPath, ['-e', script], { timeoutMs: 30_000 });
}

describe('listensOn', () => {
  it('is true once the process itself listens on the port', async () => {
    const port = await freePort();
    expect(await listensOn(child('listener', port), port)).toBe(true);
  });

  it('is false while another process holds the port, though the port answers', async () => {
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      expect(await listensOn(child('bystander', undefined), port, { timeoutMs: 1500 })).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('throws with what the process printed when it exits first', async () => {
    const port = await freePort();
    const proc = spawnTracked(
      'quitter',
      process.execPath,
      ['-e', 'console.error("cannot start: no config"); process.exit(3)'],
      { timeoutMs: 30_000 },
    );
    await expect(listensOn(proc, port)).rejects.toThrow(/quitter exited[\s\S]*no config/);
  });
});

describe('startOnFreePort', () => {
  it('starts the program again on a new port when it does not listen, and kills the one that did not', async () => {
    const started: { proc: Proc; port: number }[] = [];
    const { proc, port } = await startOnFreePort(
      (port) => {
        // The first never listens (as aria2c on a port taken before it bound); the second does.
        const proc = child(`try ${started.length + 1}`, started.length === 0 ? undefined : port);
        started.push({ proc, port });
        return proc;
      },
      { timeoutMs: 1500 },
    );
    expect(started).toHaveLength(2);
    expect(proc).toBe(started[1]!.proc);
    expect(port).toBe(started[1]!.port);
    expect(port).not.toBe(started[0]!.port);
    await started[0]!.proc.exited;
    expect(started[0]!.proc.running).toBe(false);
  });

  it('gives up after three tries, with the last output', async () => {
    let tries = 0;
    await expect(
      startOnFreePort(
        () => {
          tries++;
          return spawnTracked(
            'never listens',
            process.execPath,
            ['-e', 'console.log("bind: Address already in use"); setInterval(() => {}, 1000)'],
            { timeoutMs: 30_000 },
          );
        },
        { failedBind: /Address already in use/ },
      ),
    ).rejects.toThrow(/never listens did not listen[\s\S]*Address already in use/);
    expect(tries).toBe(3);
  });
});
