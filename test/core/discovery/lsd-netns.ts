/**
 * Two network namespaces joined by a veth pair: a private Ethernet segment
 * where LSD's multicast can be tested without a packet reaching the host's
 * own network. Addresses 10.231.<n>.1 and .2/24 (and fd00:231::1 and ::2/64)
 * exist only inside the pair, with a multicast route over the veth. Needs root (the suite runs as root);
 * anything missing fails with the reason.
 */
import { execFileSync } from 'node:child_process';

export interface NetnsPair {
  names: [string, string];
  addresses: [string, string];
  /** Unique local IPv6 addresses (fd00:231::1 and ::2/64), for LSD over IPv6. */
  addresses6: [string, string];
  interfaces: [string, string];
  /** Deletes both namespaces (and with them the veth pair); safe to call twice. */
  remove(): void;
}

let counter = 0;

function ip(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || (error as Error).message}`, {
      cause: error,
    });
  }
}

export function createNetnsPair(): NetnsPair {
  const tag = `${process.pid % 100_000}${counter++}`;
  const names: [string, string] = [`shoal-lsd-${tag}-a`, `shoal-lsd-${tag}-b`];
  const interfaces: [string, string] = [`sl${tag}a`, `sl${tag}b`];
  const subnet = 100 + ((process.pid + counter) % 100);
  const addresses: [string, string] = [`10.231.${subnet}.1`, `10.231.${subnet}.2`];
  const addresses6: [string, string] = ['fd00:231::1', 'fd00:231::2'];
  const remove = () => {
    for (const name of names) {
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  };
  try {
    for (const name of names) ip(['netns', 'add', name]);
    ip(['link', 'add', interfaces[0], 'type', 'veth', 'peer', 'name', interfaces[1]]);
    for (let i = 0; i < 2; i++) {
      ip(['link', 'set', interfaces[i]!, 'netns', names[i]!]);
      ip(['-n', names[i]!, 'addr', 'add', `${addresses[i]}/24`, 'dev', interfaces[i]!]);
      // nodad: usable at once, without duplicate address detection's wait.
      ip(['-n', names[i]!, 'addr', 'add', `${addresses6[i]}/64`, 'dev', interfaces[i]!, 'nodad']);
      ip(['-n', names[i]!, 'link', 'set', 'lo', 'up']);
      ip(['-n', names[i]!, 'link', 'set', interfaces[i]!, 'up']);
      // Multicast leaves through the veth (there is no default route to take it).
      ip(['-n', names[i]!, 'route', 'add', '224.0.0.0/4', 'dev', interfaces[i]!]);
    }
  } catch (error) {
    remove();
    throw new Error(
      `cannot make network namespaces for the LSD test (needs root and iproute2): ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { names, addresses, addresses6, interfaces, remove };
}
