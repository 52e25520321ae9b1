# Loads a .torrent with libtorrent, prints its view of it as JSON, then checks
# the data under SAVE_PATH in a loopback-only session (no DHT/LSD/UPnP/NAT-PMP).
# Usage: /usr/bin/python3 libtorrent-check.py TORRENT SAVE_PATH
import json, os, sys, time
import libtorrent as lt

torrent, save_path = sys.argv[1], sys.argv[2]
ti = lt.torrent_info(torrent)
ih = ti.info_hashes()
fs = ti.files()
out = {
    'v1': str(ih.v1) if ih.has_v1() else None,
    'v2': str(ih.v2) if ih.has_v2() else None,
    'name': ti.name(),
    'num_pieces': ti.num_pieces(),
    'piece_length': ti.piece_length(),
    'total_size': ti.total_size(),
    'files': [
        {'path': fs.file_path(i), 'size': fs.file_size(i), 'pad': bool(fs.file_flags(i) & lt.file_storage.flag_pad_file)}
        for i in range(fs.num_files())
    ],
}
ses = lt.session({
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False,
    'enable_lsd': False,
    'enable_upnp': False,
    'enable_natpmp': False,
    'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
})
atp = lt.add_torrent_params()
atp.ti = ti
atp.save_path = save_path
atp.flags = lt.torrent_flags.upload_mode
h = ses.add_torrent(atp)
deadline = time.time() + 30
checked = False
while not checked and time.time() < deadline:
    ses.wait_for_alert(200)
    for a in ses.pop_alerts():
        if isinstance(a, lt.torrent_checked_alert):
            checked = True
        elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
            out['alert'] = a.message()
            checked = True
out['checked'] = checked
st = h.status()
out['state'] = str(st.state)
out['error'] = st.errc.message() if st.errc.value() else None
out['have_pieces'] = st.num_pieces
print(json.dumps(out))
sys.stdout.flush()
# Skip libtorrent's session teardown: it has crashed the interpreter on exit now and then
# (a signal, empty stderr), turning a finished check into a failed run.
os._exit(0)
