"""A python3-libtorrent peer for interop tests: seeds or downloads one torrent on 127.0.0.1.

Run with /usr/bin/python3 (where python3-libtorrent is installed):
  libtorrent_peer.py seed|download --torrent T --save DIR --port P [--peer HOST:PORT ...] [--timeout S]
  libtorrent_peer.py download --info-hash HEX --save DIR --port P --dht-bootstrap HOST:PORT
  libtorrent_peer.py dht-node --port P [--dht-bootstrap HOST:PORT]

--port 0 lets libtorrent pick the port (what tests do: a port found free first
could be taken before libtorrent binds it). Prints `LISTENING <port>` once it
listens on TCP and `LISTENING_UDP <port>` once on UDP, `SEEDING` once the data is checked
(seed) or complete (download), then a download exits 0. A DHT node prints
`DHT_ANNOUNCE <info-hash> <host>:<port>` for each announce_peer it receives.
Status and notable alerts go to stderr, one line each. Exits 1 on timeout or a torrent error.
Kept on loopback: no LSD, UPnP or NAT-PMP; several peers may share
127.0.0.1 (allow_multiple_connections_per_ip).

Options for the DHT, PEX and fast-extension tests (all off by default):
  --dht                 run a DHT node on the listening port (UDP, 127.0.0.1 only)
  --dht-bootstrap H:P   join the DHT through this node (implies --dht; repeatable)
  --info-hash HEX       download a magnet link with no peers and no trackers (instead
                        of --torrent): peers and metadata come from the DHT or --peer
  --show-peers          print `PEER host:port SOURCES` on stdout for each peer connected (once
                        each); SOURCES says how libtorrent learned of it (pex, dht, tracker...)
                        and who dialled (outgoing or incoming), e.g. `pex,outgoing`
  --peer-log            print libtorrent's per-peer wire log on stderr, one
                        `peerlog host:port <== HAVE_ALL` line (==> sent, <== received)
  --upload-limit B      upload cap in bytes per second (likewise --download-limit)
  --unchoke-slots N     most peers unchoked at once (-1: no limit, 0: nobody)
  --choke-after B       once B payload bytes are uploaded, choke everyone for
                        --choke-for seconds (default 3), then unchoke again
  --exit-when-peer H:P  exit 0 as soon as this peer is connected (PEX tests)
  --listen-host ADDR    listen on this address instead of 127.0.0.1 (::1 for the IPv6 tests);
                        peers are then printed as [v6]:port
"""

import argparse
import sys
import time

import libtorrent as lt


def host_port(text):
    host, port = text.rsplit(":", 1)
    # [::1]:6881 -> ("::1", 6881)
    return host.strip("[]"), int(port)


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["seed", "download", "dht-node"])
    parser.add_argument("--torrent")
    parser.add_argument("--info-hash")
    parser.add_argument("--save")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--listen-host", default="127.0.0.1")
    parser.add_argument("--peer", action="append", default=[])
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--dht", action="store_true")
    parser.add_argument("--dht-bootstrap", action="append", default=[])
    parser.add_argument("--show-peers", action="store_true")
    parser.add_argument("--peer-log", action="store_true")
    parser.add_argument("--upload-limit", type=int, default=0)
    parser.add_argument("--download-limit", type=int, default=0)
    parser.add_argument("--unchoke-slots", type=int)
    parser.add_argument("--choke-after", type=int)
    parser.add_argument("--choke-for", type=float, default=3)
    parser.add_argument("--exit-when-peer")
    args = parser.parse_args()
    if args.mode != "dht-node":
        if (args.torrent is None) == (args.info_hash is None):
            parser.error("give exactly one of --torrent and --info-hash")
        if args.save is None:
            parser.error("--save is required")
        if args.info_hash and args.mode == "seed":
            parser.error("a seeder needs --torrent")
    return args


def session_settings(args):
    dht = args.dht or bool(args.dht_bootstrap) or args.mode == "dht-node"
    mask = (
        lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.connect_notification
    )
    if args.peer_log:
        mask |= lt.alert.category_t.peer_log_notification
    if dht:
        mask |= lt.alert.category_t.dht_notification
    settings = {
        "listen_interfaces": "%s:%d" % (args.listen_host if "." in args.listen_host else "[%s]" % args.listen_host, args.port),
        "enable_dht": dht,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "allow_multiple_connections_per_ip": True,
        # shoal speaks TCP only; libtorrent would try uTP first and fall back to TCP
        # after a 3 s connect timeout. Skip that wait: the TCP path is what is tested.
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "alert_mask": mask,
        "user_agent": "libtorrent-interop-test",
    }
    if dht:
        # A DHT of a few nodes that all live on 127.0.0.1: libtorrent would otherwise keep
        # one node per IP in its routing table and in each lookup, and find nobody.
        settings["dht_bootstrap_nodes"] = ",".join(args.dht_bootstrap)
        settings["dht_restrict_routing_ips"] = False
        settings["dht_restrict_search_ips"] = False
        settings["dht_ignore_dark_internet"] = False
    if args.upload_limit or args.download_limit:
        # Otherwise libtorrent exempts 127.0.0.1 from every rate limit.
        settings["ignore_limits_on_local_network"] = False
    if args.upload_limit:
        settings["upload_rate_limit"] = args.upload_limit
    if args.download_limit:
        settings["download_rate_limit"] = args.download_limit
    if args.unchoke_slots is not None or args.choke_after is not None:
        # Choke decisions every second instead of every 15: a changed slot count acts at once.
        settings["unchoke_interval"] = 1
    if args.unchoke_slots is not None:
        settings["unchoke_slots_limit"] = args.unchoke_slots
    return settings


def add_torrent(session, args):
    if args.torrent:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(args.torrent)
    else:
        params = lt.parse_magnet_uri("magnet:?xt=urn:btih:%s" % args.info_hash)
    params.save_path = args.save
    return session.add_torrent(params)


def peer_key(endpoint):
    host = endpoint[0]
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, endpoint[1])


def peer_sources(info):
    """How libtorrent learned of a peer and who dialled, e.g. `pex,outgoing` or `incoming`."""
    names = [
        (lt.peer_info.tracker, "tracker"),
        (lt.peer_info.dht, "dht"),
        (lt.peer_info.pex, "pex"),
        (lt.peer_info.lsd, "lsd"),
        (lt.peer_info.resume_data, "resume"),
    ]
    learned = [name for flag, name in names if info.source & flag]
    outgoing = info.flags & lt.peer_info.outgoing_connection
    return ",".join(learned + ["outgoing" if outgoing else "incoming"])


def main():
    args = parse_args()
    session = lt.session(session_settings(args))
    handle = None if args.mode == "dht-node" else add_torrent(session, args)
    peers = [host_port(text) for text in args.peer]

    deadline = time.time() + args.timeout
    announced_listen = False
    announced_seeding = False
    last_status = 0.0
    last_dial = 0.0
    last_dht_announce = 0.0
    shown_peers = set()
    choked_at = None
    while time.time() < deadline:
        for alert in session.pop_alerts():
            kind = type(alert).__name__
            if kind == "listen_succeeded_alert" and alert.socket_type == lt.socket_type_t.tcp:
                if not announced_listen:
                    announced_listen = True
                    print("LISTENING %d" % alert.port, flush=True)
            elif kind == "listen_succeeded_alert" and alert.socket_type == lt.socket_type_t.udp:
                # With --port 0 the UDP socket (DHT, uTP) takes the TCP one's port, or
                # another port when that one is taken for UDP: tests compare the two.
                print("LISTENING_UDP %d" % alert.port, flush=True)
            elif kind == "dht_announce_alert":
                # Another node stored itself as a peer here: tests wait for this line.
                print("DHT_ANNOUNCE %s %s:%d" % (alert.info_hash, alert.ip, alert.port), flush=True)
            elif kind == "peer_log_alert":
                # message() reads like `... [ 127.0.0.1:5000 ] <== HAVE_ALL`: keep what follows the peer.
                text = alert.message().split("] ", 1)[-1]
                print("peerlog %s %s" % (peer_key(alert.endpoint), text), file=sys.stderr, flush=True)
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
                "metadata_received_alert",
            ):
                print("alert %s: %s" % (kind, alert.message()), file=sys.stderr, flush=True)
            if kind in ("listen_failed_alert", "torrent_error_alert"):
                return 1
        now = time.time()
        if handle is None:
            if now - last_status > 1:
                last_status = now
                print("status: dht_nodes=%d" % session.status().dht_nodes, file=sys.stderr, flush=True)
            time.sleep(0.05)
            continue
        status = handle.status()
        # Dial once checked, and again only if still alone long after (libtorrent retries by itself).
        if peers and status.num_peers == 0 and now - last_dial > 15 and status.state != lt.torrent_status.checking_files:
            last_dial = now
            for peer in peers:
                handle.connect_peer(peer)
        # libtorrent announces to the DHT every 15 minutes; a test cannot wait for the one
        # that follows the DHT's bootstrap, so announce (and look up) every few seconds.
        if (args.dht or args.dht_bootstrap) and now - last_dht_announce > 3:
            last_dht_announce = now
            handle.force_dht_announce()
        if args.show_peers or args.exit_when_peer:
            for info in handle.get_peer_info():
                key = peer_key(info.ip)
                # Only peers past the handshake: a dial in progress is not a connection yet.
                if key in shown_peers or info.flags & (lt.peer_info.connecting | lt.peer_info.handshake):
                    continue
                shown_peers.add(key)
                line = "PEER %s %s" % (key, peer_sources(info))
                if args.show_peers or key == args.exit_when_peer:
                    print(line, flush=True)
                if key == args.exit_when_peer:
                    return 0
        if args.choke_after is not None:
            if choked_at is None and status.total_payload_upload >= args.choke_after:
                choked_at = now
                session.apply_settings({"unchoke_slots_limit": 0})
                print("CHOKED", flush=True)
            elif choked_at is not None and choked_at > 0 and now - choked_at > args.choke_for:
                choked_at = -1
                session.apply_settings({"unchoke_slots_limit": -1})
                print("UNCHOKED", flush=True)
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
    if args.mode != "download":
        return 0
    print("timed out", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
