/**
 * A private DHT of bittorrent-dht nodes on 127.0.0.1 that store BEP 44
 * mutable items (they check signatures with shoal's verifier), fully meshed
 * so every node knows every other. `entry` is a node to bootstrap through.
 */
import DHT from 'bittorrent-dht';
import { verifyEd25519 } from '../../../src/core/updatable/keys.ts';

export interface PrivateDht {
  nodes: DHT[];
  entry: string;
  close(): Promise<void>;
}

export async function startPrivateDht(count = 4): Promise<PrivateDht> {
  const nodes: DHT[] = [];
  for (let i = 0; i < count; i++) {
    const dht = new DHT({ bootstrap: false, verify: verifyEd25519 });
    dht.on('error', () => {});
    await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', () => resolve()));
    nodes.push(dht);
  }
  await Promise.all(
    nodes.map(
      (a) =>
        new Promise<void>((resolve) => {
          let pending = count - 1;
          a.on('node', () => {
            if (--pending === 0) resolve();
          });
          for (const b of nodes)
            if (b !== a) a.addNode({ host: '127.0.0.1', port: b.address().port });
        }),
    ),
  );
  return {
    nodes,
    entry: `127.0.0.1:${nodes[0]!.address().port}`,
    close: async () => {
      await Promise.all(
        nodes.map((dht) => new Promise<void>((resolve) => dht.destroy(() => resolve()))),
      );
    },
  };
}
