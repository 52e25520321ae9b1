"""A python3-libtorrent peer with encryption forced, for the MSE/PE interop tests.

Run with /usr/bin/python3 (where python3-libtorrent is installed):
  libtorrent_enc_peer.py seed|download --torrent T --save DIR --port P
      [--peer HOST:PORT] [--enc-level rc4|plaintext] [--timeout S]

Both directions use MSE only (out_enc_policy and in_enc_policy forced: libtorrent
refuses plain BitTorrent handshakes and never sends one); --enc-level sets
allowed_enc_level: `rc4` (the default) allows only RC4 after the handshake,
`plaintext` only MSE's plaintext mode.

Prints on stdout: `LISTENING <port>` once it listens; `SEEDING` once the data is
checked (seed) or complete (download, which then exits 0); and for each peer
whose BitTorrent handshake is done, whenever its state changes,
`PEER <host:port> rc4=<0|1> plaintext=<0|1> pieces=<pieces the peer has>`
(rc4 and plaintext are peer_info's rc4_encrypted and plaintext_encrypted flags).
Notable alerts go to stderr. Exits 1 on timeout or a torrent error. Loopback only:
no DHT, LSD, UPnP, NAT-PMP or uTP.
"""

import argparse
import sys
import time

import libtorrent as lt


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["seed", "download"])
    parser.add_argument("--torrent", required=True)
    parser.add_argument("--save", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--peer")
    parser.add_argument("--enc-level", choices=["rc4", "plaintext"], default="rc4")
    parser.add_argument("--timeout", type=float, default=60)
    return parser.parse_args()


def session_settings(args):
    return {
        "listen_interfaces": "127.0.0.1:%d" % args.port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        # In libtorrent 2.0.8's binding enc_policy.forced is 0, enabled 1, disabled 2.
        "out_enc_policy": int(lt.enc_policy.forced),
        "in_enc_policy": int(lt.enc_policy.forced),
        "allowed_enc_level": int(lt.enc_level.rc4 if args.enc_level == "rc4" else lt.enc_level.plaintext),
        "prefer_rc4": args.enc_level == "rc4",
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.connect_notification,
        "user_agent": "libtorrent-enc-interop-test",
    }


def main():
    args = parse_args()
    session = lt.session(session_settings(args))
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(args.torrent)
    params.save_path = args.save
    handle = session.add_torrent(params)
    peer = None
    if args.peer:
        host, port = args.peer.rsplit(":", 1)
        peer = (host, int(port))

    deadline = time.time() + args.timeout
    announced_listen = False
    announced_seeding = False
    last_dial = 0.0
    last_status = 0.0
    shown = {}
    while time.time() < deadline:
        for alert in session.pop_alerts():
            kind = type(alert).__name__
            if (
                kind == "listen_succeeded_alert"
                and alert.socket_type == lt.socket_type_t.tcp
                and not announced_listen
            ):
                announced_listen = True
                print("LISTENING %d" % alert.port, flush=True)
            elif kind in (
                "listen_failed_alert",
                "torrent_error_alert",
                "file_error_alert",
                "peer_error_alert",
                "peer_disconnected_alert",
                "peer_connect_alert",
                "incoming_connection_alert",
            ):
                print("alert %s: %s" % (kind, alert.message()), file=sys.stderr, flush=True)
            if kind in ("listen_failed_alert", "torrent_error_alert"):
                return 1
        now = time.time()
        status = handle.status()
        if peer and status.num_peers == 0 and now - last_dial > 5 and status.state != lt.torrent_status.checking_files:
            last_dial = now
            handle.connect_peer(peer)
        for info in handle.get_peer_info():
            if info.flags & (lt.peer_info.handshake | lt.peer_info.connecting):
                continue
            key = "%s:%d" % (info.ip[0], info.ip[1])
            line = "PEER %s rc4=%d plaintext=%d pieces=%d" % (
                key,
                1 if info.flags & lt.peer_info.rc4_encrypted else 0,
                1 if info.flags & lt.peer_info.plaintext_encrypted else 0,
                sum(1 for has in info.pieces if has),
            )
            if shown.get(key) != line:
                shown[key] = line
                print(line, flush=True)
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
