/**
 * An LSD peer for the namespace tests, run inside a namespace with
 * `ip netns exec NS node lsd-node.ts ...`:
 *
 *   lsd-node.ts listen --hash HEX [--bind ADDR] [--no-ipv4 | --no-ipv6]
 *     Starts an LsdService and a TCP listener on ADDR (port printed), prints
 *     `READY <tcp port>`, and then on stdin commands:
 *       start     start an LsdDiscovery for --hash (it announces at once)
 *       announce  ask the service to announce again: prints `ANNOUNCED true|false`
 *     Prints `PEER <host:port>` for each peer the discovery reports (our
 *     torrent), `HEARD <hash> <host:port>` for every announce heard, and
 *     `DROPPED <n>` each second the intake cap drops datagrams.
 *   lsd-node.ts send --count N --hex DATAGRAM ...
 *     Multicasts each datagram N times to 239.192.152.143:6771, then exits.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { parseArgs } from 'node:util';
import type { DiscoveryContext } from '../../../src/core/discovery/discovery.ts';
import { LSD_GROUP_V4, LSD_PORT } from '../../../src/core/discovery/lsd-codec.ts';
import { LsdDiscovery, LsdService } from '../../../src/core/discovery/lsd.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    hash: { type: 'string' },
    bind: { type: 'string', default: '0.0.0.0' },
    'no-ipv6': { type: 'boolean', default: false },
    'no-ipv4': { type: 'boolean', default: false },
    count: { type: 'string', default: '1' },
    hex: { type: 'string', multiple: true, default: [] },
  },
});

const say = (line: string) => process.stdout.write(`${line}\n`);

if (positionals[0] === 'send') {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, () => {
    socket.setMulticastTTL(1);
    const datagrams = values.hex.map((hex) => Buffer.from(hex, 'hex'));
    let pending = datagrams.length * Number(values.count);
    for (let i = 0; i < Number(values.count); i++) {
      for (const datagram of datagrams) {
        socket.send(datagram, LSD_PORT, LSD_GROUP_V4, () => {
          if (--pending === 0) socket.close(() => say('SENT'));
        });
      }
    }
  });
} else {
  const hash = values.hash!;
  const service = new LsdService({ ipv4: !values['no-ipv4'], ipv6: !values['no-ipv6'] });
  service.on('warning', (message) => process.stderr.write(`warning: ${message}\n`));
  service.on('peer', (infoHash, peer) => say(`HEARD ${infoHash} ${peer.host}:${peer.port}`));
  await service.start();
  const server = net.createServer((socket) => {
    say(`CONNECTION ${socket.remoteAddress}`);
    socket.on('error', () => {});
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, values.bind, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const discovery = new LsdDiscovery({ service });
  const context: DiscoveryContext = {
    infoHash: Buffer.from(hash, 'hex'),
    peerId: Buffer.alloc(20, 1),
    port,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
    addPeers: (peers, source) => {
      for (const peer of peers) say(`PEER ${source} ${peer.host}:${peer.port}`);
    },
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  };
  let dropped = 0;
  setInterval(() => {
    if (service.dropped !== dropped) say(`DROPPED ${(dropped = service.dropped)}`);
  }, 1000);
  process.on('SIGHUP', () => discovery.start(context));
  process.on('SIGUSR2', () => say(`ANNOUNCED ${service.announce(hash, port)}`));
  say(`READY ${port}`);
}
