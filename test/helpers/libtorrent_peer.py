"""A python3-libtorrent peer for interop tests: seeds or downloads one torrent on 127.0.0.1.

Run with /usr/bin/python3 (where python3-libtorrent is installed):
  libtorrent_peer.py seed|download --torrent T --save DIR --port P [--peer HOST:PORT ...] [--timeout S]

Prints `LISTENING <port>` once it listens, `SEEDING` once the data is checked
(seed) or complete (download), then a download exits 0. Status and notable
alerts go to stderr, one line each. Exits 1 on timeout or a torrent error.
Kept on loopback: no DHT, LSD, UPnP or NAT-PMP; several peers may share
127.0.0.1 (allow_multiple_connections_per_ip).
"""

import argparse
import sys
import time

import libtorrent as lt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["seed", "download"])
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--save", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--peer", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    session = lt.session(
        {
            "listen_interfaces": "127.0.0.1:%d" % args.port,
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "allow_multiple_connections_per_ip": True,
            # shoal speaks TCP only; libtorrent would try uTP first and fall back to TCP
            # after a 3 s connect timeout. Skip that wait: the TCP path is what is tested.
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            "alert_mask": lt.alert.category_t.error_notification
            | lt.alert.category_t.status_notification
            | lt.alert.category_t.peer_notification
            | lt.alert.category_t.connect_notification,
            "user_agent": "libtorrent-interop-test",
        }
    )
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    handle = session.add_torrent(params)
    peers = []
    for text in args.peer:
        host, port = text.rsplit(":", 1)
        peers.append((host, int(port)))

    deadline = time.time() + args.timeout
    announced_listen = False
    announced_seeding = False
    last_status = 0.0
    last_dial = 0.0
    while time.time() < deadline:
        for alert in session.pop_alerts():
            kind = type(alert).__name__
            if kind == "listen_succeeded_alert" and not announced_listen:
                announced_listen = True
                print("LISTENING %d" % alert.port, flush=True)
            elif kind in (
                "listen_failed_alert",
                "torrent_error_alert",
                "file_error_alert",
                "hash_failed_alert",
                "peer_error_alert",
                "peer_disconnected_alert",
                "peer_connect_alert",
                "peer_ban_alert",
                "torrent_finished_alert",
            ):
                print("alert %s: %s" % (kind, alert.message()), file=sys.stderr, flush=True)
            if kind in ("listen_failed_alert", "torrent_error_alert"):
                return 1
        status = handle.status()
        now = time.time()
        # Dial once checked, and again only if still alone long after (libtorrent retries by itself).
        if peers and status.num_peers == 0 and now - last_dial > 15 and status.state != lt.torrent_status.checking_files:
            last_dial = now
            for peer in peers:
                handle.connect_peer(peer)
        if status.is_seeding and not announced_seeding:
            announced_seeding = True
            print("SEEDING", flush=True)
            if args.mode == "download":
                return 0
        if now - last_status > 1:
            last_status = now
            print(
                "status: state=%s progress=%.3f peers=%d down=%d up=%d"
                % (status.state, status.progress, status.num_peers, status.total_payload_download, status.total_payload_upload),
                file=sys.stderr,
                flush=True,
            )
        time.sleep(0.05)
    if args.mode == "seed":
        return 0
    print("timed out", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
