"""python3-libtorrent for the BEP 52 hash request interop test (v2 magnets, v2 torrents without piece layers).

Run with /usr/bin/python3 (where python3-libtorrent is installed):
  bep52_libtorrent.py make --data PATH --out T --piece-length N
      makes a v2-only .torrent of PATH (a file or directory) with libtorrent's create_torrent
      (flag v2_only) and prints `INFOHASH_V2 <hex>`
  bep52_libtorrent.py seed --torrent T --save DIR --port P [--timeout S]
      prints `LISTENING <port>`, then `SEEDING` once the data is checked
  bep52_libtorrent.py download --magnet URI --save DIR --port P --peer HOST:PORT [--timeout S]
      downloads a magnet link (metadata, then piece layers by hash requests, then data)
      from --peer only, prints `COMPLETE` and exits 0; exits 1 on timeout or error

Loopback only: no DHT, LSD, UPnP or NAT-PMP; TCP only.
"""

import argparse
import os
import sys
import time

import libtorrent as lt


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["make", "seed", "download"])
    parser.add_argument("--data")
    parser.add_argument("--out")
    parser.add_argument("--piece-length", type=int, default=16384)
    parser.add_argument("--torrent")
    parser.add_argument("--magnet")
    parser.add_argument("--save")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--peer", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=90)
    return parser.parse_args()


def make(args):
    fs = lt.file_storage()
    lt.add_files(fs, args.data)
    ct = lt.create_torrent(fs, args.piece_length, flags=lt.create_torrent.v2_only)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(args.data)))
    data = lt.bencode(ct.generate())
    with open(args.out, "wb") as out:
        out.write(data)
    info = lt.torrent_info(args.out)
    print("INFOHASH_V2 %s" % info.info_hashes().v2, flush=True)


def session_for(args):
    return lt.session(
        {
            "listen_interfaces": "127.0.0.1:%d" % args.port,
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "allow_multiple_connections_per_ip": True,
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            "alert_mask": lt.alert.category_t.error_notification
            | lt.alert.category_t.status_notification,
            "user_agent": "libtorrent-bep52-test",
        }
    )


def wait_listening(session):
    deadline = time.time() + 15
    while time.time() < deadline:
        if session.listen_port():
            print("LISTENING %d" % session.listen_port(), flush=True)
            return
        time.sleep(0.1)
    sys.exit("never listened")


def report_errors(session):
    for alert in session.pop_alerts():
        if isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
            print("ERROR %s" % alert.message(), file=sys.stderr, flush=True)
            sys.exit(1)


def seed(args):
    session = session_for(args)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    handle = session.add_torrent(params)
    wait_listening(session)
    deadline = time.time() + args.timeout
    announced = False
    while time.time() < deadline:
        report_errors(session)
        status = handle.status()
        if not announced and status.is_seeding:
            print("SEEDING", flush=True)
            announced = True
        time.sleep(0.2)
    return 0


def download(args):
    session = session_for(args)
    params = lt.parse_magnet_uri(args.magnet)
    params.save_path = args.save
    handle = session.add_torrent(params)
    wait_listening(session)
    for peer in args.peer:
        host, port = peer.rsplit(":", 1)
        handle.connect_peer((host, int(port)))
    deadline = time.time() + args.timeout
    last = None
    while time.time() < deadline:
        report_errors(session)
        status = handle.status()
        line = "state=%s progress=%.3f peers=%d" % (status.state, status.progress, status.num_peers)
        if line != last:
            print(line, file=sys.stderr, flush=True)
            last = line
        if status.is_seeding:
            print("COMPLETE", flush=True)
            return 0
        if status.num_peers == 0:
            for peer in args.peer:
                host, port = peer.rsplit(":", 1)
                handle.connect_peer((host, int(port)))
        time.sleep(0.2)
    print("TIMEOUT", file=sys.stderr, flush=True)
    return 1


def main():
    args = parse_args()
    if args.mode == "make":
        make(args)
        return 0
    if args.mode == "seed":
        return seed(args)
    return download(args)


if __name__ == "__main__":
    sys.exit(main())
