#!/usr/bin/python3
"""python3-libtorrent helper for the benchmarks (run by /usr/bin/python3).

  lt.py seed   --port P --torrent T:DIR [--torrent T:DIR ...]   seed (seed_mode: no check) until killed;
               a line "connect HOST:PORT" on stdin makes every torrent connect to that peer
  lt.py leech  --torrent T:DIR [--peer HOST:PORT ...]           download, exit when finished
  lt.py recheck --torrent T:DIR                                  full hash check of data on disk

Everything listens on and talks to 127.0.0.1 only: no DHT, LSD, UPnP, NAT-PMP or uTP.
Options for the transport benchmarks (bench/transports.ts):
  --encryption forced   MSE with RC4 only, both ways (out/in_enc_policy forced, allowed_enc_level rc4)
  --utp-only            uTP only: TCP off both ways, uTP on
Prints one JSON line on stdout with what it measured ("READY" first for seed).
"""
import argparse
import json
import signal
import sys
import threading
import time

import libtorrent as lt


def settings(port, args=None):
    base = base_settings(port)
    if args is not None and args.encryption == 'forced':
        base['out_enc_policy'] = int(lt.enc_policy.forced)
        base['in_enc_policy'] = int(lt.enc_policy.forced)
        base['allowed_enc_level'] = int(lt.enc_level.rc4)
        base['prefer_rc4'] = True
    if args is not None and args.utp_only:
        base['enable_outgoing_tcp'] = False
        base['enable_incoming_tcp'] = False
        base['enable_outgoing_utp'] = True
        base['enable_incoming_utp'] = True
    return base


def base_settings(port):
    return {
        'listen_interfaces': f'127.0.0.1:{port}',
        'outgoing_interfaces': '127.0.0.1',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_ip_notifier': False,
        'dht_bootstrap_nodes': '',
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'allow_multiple_connections_per_ip': True,
        # Plain outgoing handshakes (Transmission 3 drops libtorrent's encrypted one on
        # loopback); incoming connections may still be either.
        'out_enc_policy': int(lt.enc_policy.disabled),
        'in_enc_policy': int(lt.enc_policy.enabled),
        'send_buffer_watermark': 32 * 1024 * 1024,
        'send_buffer_low_watermark': 4 * 1024 * 1024,
        'send_buffer_watermark_factor': 150,
        'max_queued_disk_bytes': 64 * 1024 * 1024,
        'max_allowed_in_request_queue': 4000,
        'unchoke_slots_limit': -1,
        'min_reconnect_time': 1,
        'connections_limit': 500,
        'alert_mask': lt.alert_category.error | lt.alert_category.status,
        'user_agent': 'shoal-bench-libtorrent',
    }


def parse_torrent(spec):
    path, _, save = spec.rpartition(':')
    return lt.torrent_info(path), save


def add(ses, spec, flags=0):
    ti, save = parse_torrent(spec)
    params = lt.add_torrent_params()
    params.ti = ti
    params.save_path = save
    params.flags = (params.flags | flags) & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    return ses.add_torrent(params)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def seed(args):
    ses = lt.session(settings(args.port, args))
    handles = [add(ses, spec, lt.torrent_flags.seed_mode) for spec in args.torrent]
    for h in handles:
        h.force_reannounce()
    commands = []

    def read_stdin():
        for line in sys.stdin:
            commands.append(line.split())

    threading.Thread(target=read_stdin, daemon=True).start()
    emit('READY')
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while not stop:
        while commands:
            command = commands.pop(0)
            if len(command) == 2 and command[0] == 'connect':
                host, _, port = command[1].rpartition(':')
                for h in handles:
                    h.connect_peer((host, int(port)))
        ses.pop_alerts()
        time.sleep(0.05)
    uploaded = sum(h.status().all_time_upload for h in handles)
    emit({'uploaded': uploaded})


def leech(args):
    start = time.monotonic()
    ses = lt.session(settings(0, args))
    h = add(ses, args.torrent[0])
    for peer in args.peer:
        host, _, port = peer.rpartition(':')
        h.connect_peer((host, int(port)))
    first = None
    deadline = start + args.timeout
    while True:
        st = h.status()
        if first is None and st.total_wanted_done > 0:
            first = time.monotonic() - start
        if st.is_finished or st.is_seeding:
            break
        if st.errc.value() != 0:
            emit({'error': st.errc.message()})
            sys.exit(1)
        if time.monotonic() > deadline:
            emit({'error': 'timeout', 'done': st.total_wanted_done})
            sys.exit(4)
        ses.wait_for_alert(50)
        ses.pop_alerts()
        if args.peer and st.num_peers == 0:
            for peer in args.peer:
                host, _, port = peer.rpartition(':')
                h.connect_peer((host, int(port)))
    finished = time.monotonic() - start
    # Flush to disk before the process ends so the bytes can be compared.
    h.flush_cache()
    ses.remove_torrent(h)
    del ses
    emit({'finished': finished, 'firstByte': first, 'exited': time.monotonic() - start})


def recheck(args):
    ses = lt.session(settings(0))
    ses.apply_settings({'hashing_threads': args.threads, 'aio_threads': args.threads, 'checking_mem_usage': 4096})
    start = time.monotonic()
    # Without resume data libtorrent hashes every piece of existing files when added.
    h = add(ses, args.torrent[0])
    checked = False
    while not checked:
        if time.monotonic() - start > args.timeout:
            emit({'error': 'timeout'})
            sys.exit(4)
        ses.wait_for_alert(20)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_checked_alert):
                checked = True
    seconds = time.monotonic() - start
    st = h.status()
    emit({'checked': seconds, 'seeding': bool(st.is_seeding), 'pieces': st.num_pieces})
    sys.exit(0 if st.is_seeding else 6)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['seed', 'leech', 'recheck'])
    p.add_argument('--torrent', action='append', default=[])
    p.add_argument('--peer', action='append', default=[])
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--timeout', type=float, default=600)
    p.add_argument('--encryption', choices=['default', 'forced'], default='default')
    p.add_argument('--utp-only', action='store_true')
    args = p.parse_args()
    {'seed': seed, 'leech': leech, 'recheck': recheck}[args.mode](args)


if __name__ == '__main__':
    main()
