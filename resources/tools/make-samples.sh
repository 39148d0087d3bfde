#!/usr/bin/env bash
# Regenerates resources/samples/ (development only; the outputs are committed).
#   resources/tools/make-samples.sh [BUILD_DIR]
# Needs a configured build (gen-samples is compiled by meson) and ImageMagick's
# convert for the GIF. 06-photo-cat.png is copied from python3-skimage (CC0).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
out=resources/samples
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson compile -C "$build" gen-samples
"$build/resources/gen-samples" "$tmp"
cp "$tmp"/0[1-4]-*.png "$out"/
# one global palette, no dithering: the still background keeps identical pixels in every frame
convert -delay 10 -loop 0 "$tmp"/gif-frames/frame-*.png +dither -layers Optimize "$out/05-moving-ball.gif"
if [ -f /usr/lib/python3/dist-packages/skimage/data/chelsea.png ]; then
  cp /usr/lib/python3/dist-packages/skimage/data/chelsea.png "$out/06-photo-cat.png"
fi
ls -l "$out"
