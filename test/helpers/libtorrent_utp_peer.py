"""A python3-libtorrent seeder that speaks uTP only, for shoal's uTP interop tests.

Run with /usr/bin/python3 (where python3-libtorrent is installed):
  libtorrent_utp_peer.py --data FILE --port P (0: any) [--connect HOST:PORT] [--download-to DIR] [--timeout S]

Makes a v1 torrent of FILE (16 KiB pieces) and seeds it from FILE's folder on
127.0.0.1:P with TCP turned off both ways (enable_outgoing_tcp and
enable_incoming_tcp false; uTP on), and encryption off, so a test can read the
plain BitTorrent handshake. Prints on stdout, one line each:
  INFO_HASH <40 hex>   once the torrent is made
  LISTENING <port>     once it listens (UDP, for uTP)
  SEEDING              once the data is checked
  PEER <host:port>     for each peer past the handshake
With --connect it dials HOST:PORT over uTP (connect_peer) every 3 s until a
peer is connected. With --download-to DIR it does not seed: it downloads the
torrent into the empty DIR (from --connect), prints COMPLETE and exits 0.
Alerts go to stderr. Exits 0 at --timeout (default 60 s), 1 if a download
had not completed by then.
"""

import argparse
import os
import sys
import time

import libtorrent as lt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connect")
    parser.add_argument("--download-to")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    storage = lt.file_storage()
    lt.add_files(storage, args.data)
    creator = lt.create_torrent(storage, 16 * 1024, flags=lt.create_torrent.v1_only)
    save = os.path.dirname(os.path.abspath(args.data))
    lt.set_piece_hashes(creator, save)
    info = lt.torrent_info(creator.generate())
    print("INFO_HASH %s" % info.info_hash(), flush=True)

    session = lt.session(
        {
            "listen_interfaces": "127.0.0.1:%d" % args.port,
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "allow_multiple_connections_per_ip": True,
            "enable_outgoing_tcp": False,
            "enable_incoming_tcp": False,
            "enable_outgoing_utp": True,
            "enable_incoming_utp": True,
            "out_enc_policy": lt.enc_policy.pe_disabled,
            "in_enc_policy": lt.enc_policy.pe_enabled,
            "alert_mask": lt.alert.category_t.error_notification
            | lt.alert.category_t.status_notification
            | lt.alert.category_t.peer_notification
            | lt.alert.category_t.connect_notification,
            "user_agent": "libtorrent-utp-interop-test",
        }
    )
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = args.download_to or save
    handle = session.add_torrent(params)

    target = None
    if args.connect:
        host, port = args.connect.rsplit(":", 1)
        target = (host, int(port))
    deadline = time.time() + args.timeout
    seeding = False
    shown = set()
    last_dial = 0.0
    while time.time() < deadline:
        for alert in session.pop_alerts():
            kind = type(alert).__name__
            # Its uTP socket's port: with --port 0 it may differ from the (unused) TCP one's.
            if kind == "listen_succeeded_alert" and alert.socket_type == lt.socket_type_t.udp:
                print("LISTENING %d" % alert.port, flush=True)
            elif kind == "listen_succeeded_alert":
                pass
            elif kind in ("listen_failed_alert", "torrent_error_alert"):
                print("alert %s: %s" % (kind, alert.message()), file=sys.stderr, flush=True)
                return 1
            else:
                print("alert %s: %s" % (kind, alert.message()), file=sys.stderr, flush=True)
        status = handle.status()
        if status.is_seeding and not seeding:
            seeding = True
            print("COMPLETE" if args.download_to else "SEEDING", flush=True)
            if args.download_to:
                return 0
        ready = seeding or (args.download_to and status.state != lt.torrent_status.checking_files)
        now = time.time()
        if target and ready and status.num_peers == 0 and now - last_dial > 3:
            last_dial = now
            handle.connect_peer(target)
        for peer in handle.get_peer_info():
            key = "%s:%d" % (peer.ip[0], peer.ip[1])
            if key in shown or peer.flags & (lt.peer_info.connecting | lt.peer_info.handshake):
                continue
            shown.add(key)
            print("PEER %s" % key, flush=True)
        time.sleep(0.05)
    return 1 if args.download_to else 0


if __name__ == "__main__":
    sys.exit(main())
