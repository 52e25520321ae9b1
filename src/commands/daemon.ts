import { Command, Flags } from '@oclif/core';
import { ENCRYPTION_POLICIES } from '../core/transport/mse/policy.ts';
import { threadsFlag } from './flags.ts';

export default class Daemon extends Command {
  static override summary =
    'Run many torrents in one process, controlled over the Transmission RPC (shoal remote, transmission-remote, ...).';
  static override description = `One listening port and one hash pool for every torrent; the RPC at http://HOST:PORT/transmission/rpc.
State (torrent list, settings, metainfo) is kept in --state-dir and survives kill -9: after a restart every torrent is
back as it was and resumes without fetching verified pieces again. A second daemon on the same --state-dir refuses (exit 2).
Foreground by default (systemd, containers); --detach runs it in the background. SIGTERM or Ctrl-C stops cleanly
(exit 0, state saved); SIGHUP reloads settings.json. RPC is on 127.0.0.1 unless --rpc-bind says otherwise, which
needs --rpc-auth or --rpc-auth-file (exit 2 without). Callers may only use folders inside --download-dir.
See docs/DAEMON.md.`;

  static override examples = [
    '<%= config.bin %> daemon --download-dir ~/Downloads',
    '<%= config.bin %> daemon --rpc-bind 0.0.0.0 --rpc-auth-file /etc/shoal/rpc-auth --rpc-allow 192.168.1.*',
    '<%= config.bin %> daemon --watch ~/torrents --detach --pid-file ~/.shoal.pid --log ~/shoal.log',
  ];

  static override flags = {
    'rpc-port': Flags.integer({
      description: 'RPC port (0: any free port)',
      default: 9091,
      min: 0,
      max: 65535,
    }),
    'rpc-bind': Flags.string({ description: 'address the RPC listens on', default: '127.0.0.1' }),
    'rpc-auth': Flags.string({ description: 'RPC credentials USER:PASS (prefer --rpc-auth-file)' }),
    'rpc-auth-file': Flags.string({ description: 'file holding USER:PASS on its first line' }),
    'rpc-allow': Flags.string({
      description:
        'callers allowed besides loopback: IP addresses, * wildcards per part (repeatable, or comma-separated)',
      multiple: true,
    }),
    'rpc-host': Flags.string({
      description: 'extra names the Host header may carry (DNS-rebinding check; repeatable)',
      multiple: true,
    }),
    'state-dir': Flags.string({
      description: 'where the torrent list and settings live (default $XDG_STATE_HOME/shoal)',
    }),
    'download-dir': Flags.string({
      description: 'where data goes, and the only folder RPC callers may use (default ~/Downloads)',
    }),
    watch: Flags.string({
      description: 'folder whose .torrent files are added (then renamed .added)',
    }),
    port: Flags.integer({
      description: 'peer listening port (0: any free port)',
      default: 51413,
      min: 0,
      max: 65535,
    }),
    dht: Flags.boolean({
      description: 'find peers through the DHT (--no-dht to turn off)',
      allowNo: true,
      default: true,
    }),
    'dht-bootstrap': Flags.string({
      description: 'DHT node HOST:PORT to join through, replacing the default routers (repeatable)',
      multiple: true,
    }),
    encryption: Flags.string({
      description:
        'encrypted connections (MSE/PE): prefer, require or off; the session setting "preferred", "required" or "tolerated" (default: the saved setting, else prefer)',
      options: [...ENCRYPTION_POLICIES],
    }),
    detach: Flags.boolean({ description: 'run in the background once started (prints its PID)' }),
    'pid-file': Flags.string({
      description: 'write the daemon PID here (removed on a clean stop)',
    }),
    log: Flags.string({ description: 'append the log here instead of stderr' }),
    threads: threadsFlag(),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Daemon);
    const { daemon } = await import('./daemon.run.ts');
    await daemon(flags);
  }
}
