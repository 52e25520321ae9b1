"""python3-libtorrent checks data on disk against a .torrent and says how many pieces it has.

Run with /usr/bin/python3 (where python3-libtorrent is installed):
  bep52_check.py --torrent T --save DIR [--timeout S]
      adds T with its data in DIR (nothing listens, nothing connects: no DHT, LSD, UPnP,
      NAT-PMP, and the torrent is paused once checked), waits for the check to end and
      prints `HAVE <pieces verified> OF <pieces>`.

For a v2 torrent libtorrent can check a piece on its own only with the file's piece layer;
without it, only a whole file against its root, so one bad piece costs the whole file.
"""

import argparse
import sys
import time

import libtorrent as lt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--save", required=True)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    session = lt.session(
        {
            "listen_interfaces": "127.0.0.1:0",
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "alert_mask": lt.alert.category_t.status_notification,
        }
    )
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    handle = session.add_torrent(params)
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        # The check is over when libtorrent says so (a status read before it starts says nothing).
        if any(isinstance(a, lt.torrent_checked_alert) for a in session.pop_alerts()):
            handle.pause()
            status = handle.status()
            print("HAVE %d OF %d" % (status.num_pieces, params.ti.num_pieces()), flush=True)
            return 0
        time.sleep(0.1)
    print("TIMEOUT", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
