"""Reads a BEP 44 mutable item with python3-libtorrent's dht_get_mutable_item (for the BEP 46 interop test).

Run with /usr/bin/python3 (where python3-libtorrent is installed):
  bep46_get_item.py --port P --dht-bootstrap HOST:PORT --key HEX [--salt HEX] [--min-seq N] [--timeout S]

Joins the DHT on 127.0.0.1, asks for the item every 2 s until one with seq >= --min-seq
arrives, then prints `ITEM seq=<n> ih=<hex> authoritative=<0|1>` and checks the
item's ed25519 signature again itself (with the `cryptography` package, over the
BEP 44 signed bytes rebuilt from libtorrent's copy): `SIGNATURE_OK` or
`SIGNATURE_BAD`. libtorrent drops items whose signature does not verify before
raising the alert, so an ITEM line already means libtorrent verified it.
Exits 0 after a good item, 1 on timeout or a bad signature.
"""

import argparse
import re
import sys
import time

import libtorrent as lt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def as_bytes(value):
    return value.encode("latin1") if isinstance(value, str) else bytes(value)


def info_hash_of(item):
    # libtorrent's python entry: a dict whose keys may come back as str or bytes.
    if not isinstance(item, dict):
        return None
    for key, value in item.items():
        if as_bytes(key) == b"ih":
            return as_bytes(value)
    return None


def info_hash_from(alert):
    """The item's `ih`. libtorrent 2.0.8's binding cannot convert a DHT item to Python
    ("invalid type requested from entry"), so fall back to the alert's text, which prints
    the item with binary strings in hex: `[ { 'ih': '6aee...9f05' } ]`."""
    try:
        return info_hash_of(alert.item)
    except RuntimeError:
        match = re.search(r"\[ \{\s*'ih': '([0-9a-f]{40})' \} \]$", alert.message())
        return bytes.fromhex(match.group(1)) if match else None


def signed_bytes(salt, seq, value):
    """BEP 44: what the signature covers (the salt part only when there is a salt)."""
    out = b""
    if salt:
        out += b"4:salt%d:" % len(salt) + salt
    return out + b"3:seqi%de1:v" % seq + value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dht-bootstrap", action="append", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--salt", default="")
    parser.add_argument("--min-seq", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    key = bytes.fromhex(args.key)
    salt = bytes.fromhex(args.salt)

    session = lt.session(
        {
            "listen_interfaces": "127.0.0.1:%d" % args.port,
            "enable_dht": True,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "alert_mask": lt.alert.category_t.dht_notification
            | lt.alert.category_t.status_notification
            | lt.alert.category_t.error_notification,
            "dht_bootstrap_nodes": ",".join(args.dht_bootstrap),
            # Every node lives on 127.0.0.1 (see libtorrent_peer.py).
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_ignore_dark_internet": False,
        }
    )
    # Also ping the entry nodes straight away: libtorrent keeps no node it bootstrapped
    # from in its routing table, and on a DHT this small that can leave it empty.
    for text in args.dht_bootstrap:
        host, port = text.rsplit(":", 1)
        session.add_dht_node((host, int(port)))
    deadline = time.time() + args.timeout
    last_ask = 0.0
    while time.time() < deadline:
        for alert in session.pop_alerts():
            kind = type(alert).__name__
            if kind == "listen_succeeded_alert":
                print("LISTENING %d" % alert.port, flush=True)
            if kind != "dht_mutable_item_alert":
                continue
            if as_bytes(alert.key) != key or alert.seq < args.min_seq:
                continue
            ih = info_hash_from(alert)
            if ih is None:
                continue
            print(
                "ITEM seq=%d ih=%s authoritative=%d" % (alert.seq, ih.hex(), int(alert.authoritative)),
                flush=True,
            )
            # The value of a BEP 46 item is exactly {ih: <20 bytes>}: its bencoding is fixed.
            data = signed_bytes(salt, alert.seq, b"d2:ih20:" + ih + b"e")
            try:
                Ed25519PublicKey.from_public_bytes(key).verify(as_bytes(alert.signature), data)
            except InvalidSignature:
                print("SIGNATURE_BAD", flush=True)
                return 1
            print("SIGNATURE_OK", flush=True)
            return 0
        now = time.time()
        if now - last_ask > 2:
            last_ask = now
            session.dht_get_mutable_item(key, salt)
            print("status: asked", file=sys.stderr, flush=True)
        time.sleep(0.05)
    print("TIMEOUT", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
