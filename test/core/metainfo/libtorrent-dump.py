# Prints one JSON line per torrent as python3-libtorrent 2.0.8 sees it, for
# corpus.test.ts to cross-check shoal's parser against an independent one.
import json, sys
import libtorrent as lt

for path in sys.argv[1:]:
    try:
        ti = lt.torrent_info(path)
    except Exception as error:  # libtorrent refuses the file
        print(json.dumps({"path": path, "error": str(error)}))
        continue
    hashes = ti.info_hashes()
    fs = ti.files()
    print(json.dumps({
        "path": path,
        "v1": str(hashes.v1) if hashes.has_v1() else None,
        "v2": str(hashes.v2) if hashes.has_v2() else None,
        "name": ti.name(),
        "numFiles": fs.num_files(),
        "totalSize": ti.total_size(),
        "pieceLength": ti.piece_length(),
        "numPieces": ti.num_pieces(),
        "files": [
            {"path": fs.file_path(i).replace("\\", "/"), "size": fs.file_size(i),
             "offset": fs.file_offset(i), "pad": bool(fs.file_flags(i) & 1),
             # file_storage flags: 2 hidden, 4 executable, 8 symlink (BEP 47 h, x, l).
             "hidden": bool(fs.file_flags(i) & 2), "executable": bool(fs.file_flags(i) & 4),
             "symlink": fs.symlink(i).replace("\\", "/") if fs.file_flags(i) & 8 else None}
            for i in range(fs.num_files())
        ],
        "trackers": [[t.url, t.tier] for t in ti.trackers()],
        # type 0 = BEP 19 url-list; BEP 17 `httpseeds` (type 1) is a different protocol.
        "webSeeds": [w["url"] for w in ti.web_seeds() if w["type"] == 0],
        "private": ti.priv(),
    }))
