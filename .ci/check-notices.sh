#!/usr/bin/env bash
# Renders page 1 of a sample notice and of a sample batch with poppler's pdftoppm and checks that the
# pictures are not blank (nothing generated is committed: it all goes to a temporary folder).
set -euo pipefail
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo run --quiet --example sample_notices -- "$out" >/dev/null
for name in single batch; do
  pdftoppm -r 50 -gray -f 1 -l 1 "$out/$name.pdf" "$out/$name"
  pgm=$(ls "$out/$name"*.pgm | head -1)
  python3 - "$pgm" "$name" <<'PY'
import sys
path, name = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
# binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel
parts = data.split(b"\n", 3)
w, h = map(int, parts[1].split())
pixels = parts[3][: w * h]
dark = sum(1 for p in pixels if p < 128)
share = dark / len(pixels)
print(f"{name}: page 1 {w}x{h}, {share:.1%} dark pixels")
if not 0.005 < share < 0.5:
    sys.exit(f"{name}: page 1 looks blank or broken ({share:.2%} dark pixels)")
PY
done
