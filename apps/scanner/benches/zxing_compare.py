#!/usr/bin/env python3
"""Read rate of the scanner's decoder next to ZXing's on the same image files.

    pip install zxing-cpp pillow
    cargo build --release -p scanner --bin scanner-decode
    python3 apps/scanner/benches/zxing_compare.py TARGET/release/scanner-decode DIR [EXPECTED_TEXT]

DIR holds the pictures (PNG, JPEG, WebP); files named `<condition>-<n>.<ext>` (as the
decode_corpus bench saves them with VOELGOED_CORPUS_DIR) are grouped by condition. A file
counts as read when the decoder returns EXPECTED_TEXT, or any text when none is given.
ZXing here is zxing-cpp, the maintained C++ ZXing, with its defaults (try harder, rotate,
invert on).
"""
import json
import pathlib
import subprocess
import sys
from collections import defaultdict

import zxingcpp
from PIL import Image


def main():
    decoder, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    expected = sys.argv[3] if len(sys.argv) > 3 else None
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp"})
    ok = lambda text: text is not None and (expected is None or text == expected)

    ours = {}
    out = subprocess.run([decoder, *map(str, files)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        row = json.loads(line)
        ours[row["file"]] = ok(row["text"])

    rows = defaultdict(lambda: [0, 0, 0])  # frames, read by us, read by ZXing
    for path in files:
        condition = path.stem.rsplit("-", 1)[0] if "-" in path.stem else "all"
        found = zxingcpp.read_barcodes(Image.open(path).convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
        theirs = any(ok(b.text) for b in found)
        row = rows[condition]
        row[0] += 1
        row[1] += ours[str(path)]
        row[2] += theirs

    print(f"{'condition':<14} {'frames':>6} {'scanner':>8} {'ZXing':>8}")
    total = [0, 0, 0]
    for condition, (n, us, them) in sorted(rows.items()):
        print(f"{condition:<14} {n:>6} {100 * us / n:>7.1f}% {100 * them / n:>7.1f}%")
        total = [a + b for a, b in zip(total, (n, us, them))]
    n, us, them = total
    print(f"{'all':<14} {n:>6} {100 * us / n:>7.1f}% {100 * them / n:>7.1f}%")


if __name__ == "__main__":
    main()
