"""A python3-libtorrent peer with Local Service Discovery (BEP 14) on, for the LSD interop test.

Run inside a network namespace with /usr/bin/python3:
  lsd_libtorrent.py --bind ADDR --port P --info-hash HEX --save DIR [--timeout S]

Adds the magnet of --info-hash (no trackers, no DHT: LSD is the only way to find
anyone), announces it over LSD every 2 s, and prints:
  LISTENING <port>           once it listens
  LIST_PEERS <n>             each time the number of peers it knows changes
  PEER <host:port> <sources> for each peer connected, with how libtorrent learned of it (lsd, ...)
Runs until killed or --timeout (then exits 1).
"""

import argparse
import sys
import time

import libtorrent as lt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--info-hash", required=True)
    parser.add_argument("--save", required=True)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    session = lt.session(
        {
            "listen_interfaces": "%s:%d" % (args.bind, args.port),
            "enable_lsd": True,
            "enable_dht": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            # Announce often so the test never waits on libtorrent's 5-minute default.
            "local_service_announce_interval": 2,
            "alert_mask": lt.alert.category_t.error_notification
            | lt.alert.category_t.status_notification
            | lt.alert.category_t.peer_notification,
        }
    )
    params = lt.parse_magnet_uri("magnet:?xt=urn:btih:%s" % args.info_hash)
    params.save_path = args.save
    handle = session.add_torrent(params)

    deadline = time.time() + args.timeout
    known = -1
    shown = set()
    while time.time() < deadline:
        for alert in session.pop_alerts():
            kind = type(alert).__name__
            if kind == "listen_succeeded_alert":
                print("LISTENING %d" % alert.port, flush=True)
            elif kind in ("lsd_error_alert", "listen_failed_alert", "torrent_error_alert"):
                print("alert %s: %s" % (kind, alert.message()), file=sys.stderr, flush=True)
        status = handle.status()
        if status.list_peers != known:
            known = status.list_peers
            print("LIST_PEERS %d" % known, flush=True)
        for info in handle.get_peer_info():
            key = "%s:%d" % (info.ip[0], info.ip[1])
            if key in shown:
                continue
            shown.add(key)
            sources = [name for name in ("tracker", "dht", "pex", "lsd", "resume_data", "incoming")
                       if info.source & getattr(lt.peer_info, name)]
            print("PEER %s %s" % (key, ",".join(sources) or "-"), flush=True)
        time.sleep(0.2)
    return 1


if __name__ == "__main__":
    sys.exit(main())
