#!/bin/sh
# Bundle probe_host.py with PyInstaller one-folder and print its size before and after
# stripping the libraries that are not vendored by auditwheel (*.libs/ folders).
#   usage: PY=/path/to/python sh build_variant.sh NAME [extra PyInstaller args]
# The excludes are the ones docs/BENCHMARKS.md measured (build.py's BUNDLE_EXCLUDES grew from them).
set -e
N=$1; shift
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/bench-probe}
PY=${PY:-$(command -v python)}; PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")  # absolute, not resolved: a venv python is a symlink
mkdir -p "$OUT"; cd "$OUT"
EX=""
for m in tensorflow keras tf_keras cv2 onnxruntime ddddocr h5py grpc pytest tkinter matplotlib scipy \
         PIL.AvifImagePlugin PIL.WebPImagePlugin PIL.ImageCms PIL.ImageTk PIL.ImageFont PIL.ImageQt ssl \
         charset_normalizer numpy.f2py asyncio http urllib.request xmlrpc unittest pydoc readline curses \
         _decimal lzma bz2; do EX="$EX --exclude-module $m"; done
nice -n 10 "$PY" -m PyInstaller --noconfirm --onedir $EX "$@" --name "probe$N" --distpath "dist$N" \
    --workpath "build$N" --add-data "$HERE/../../models/ctc_ais6.tflite:." "$HERE/probe_host.py" > "build$N.log" 2>&1
echo "unstripped $(du -sb "dist$N/probe$N" | cut -f1) bytes"
cd "dist$N/probe$N/_internal"
find . -name "*.so*" -type f ! -path "./*.libs/*" -exec sh -c \
    'case "$(file -b "$1")" in *"not stripped"*) strip --strip-unneeded "$1";; esac' _ {} \;
cd ../..
echo "stripped   $(du -sb "probe$N" | cut -f1) bytes: $OUT/dist$N/probe$N/probe$N"
