#!/bin/bash
# Makes the clips the video path's bad-input and format tests read, in DIR:
# make_clip's short clip in every container and codec the library must read
# (each with its truth file), and the broken, odd and over-limit files
# derived from it with the ffmpeg tool. Writes DIR/MANIFEST.tsv (file, kind,
# what) and prints it. Reproducible: fixed settings, fixed corruption offsets.
#
#   tests/clips/make-bad-clips.sh DIR [MAKE_CLIP]
#
# MAKE_CLIP defaults to $FS_MAKE_CLIP, else build*/tests/make_clip. The
# models and photos come from $FS_MODEL_DIR / $FS_TESTDATA_DIR (default the
# tree's data/). Exit 77 without the ffmpeg tool.
#
# Kinds: ok (must decode, truth file beside it), convert (must be converted
# or refused with a clear message), bad (must be refused with a clear
# status), limit (over a pixel or duration limit when the limit is set low
# enough), damaged (opens; decode errors counted, frames passed through).
set -euo pipefail

die() { echo "make-bad-clips: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: make-bad-clips.sh DIR [MAKE_CLIP]"
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || {
    echo "make-bad-clips: no ffmpeg/ffprobe tool: skipped" >&2; exit 77; }
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1
make_clip=${2:-${FS_MAKE_CLIP:-}}
if [ -z "$make_clip" ]; then
    for c in "$root"/build*/tests/make_clip; do
        [ -x "$c" ] && { make_clip=$c; break; }
    done
fi
[ -n "$make_clip" ] && [ -x "$make_clip" ] || die "make_clip not found (build it, or pass its path)"
export FS_MODEL_DIR=${FS_MODEL_DIR:-$root/data/models}
export FS_TESTDATA_DIR=${FS_TESTDATA_DIR:-$root/data/testdata}
mkdir -p "$dir"
cd "$dir"
manifest=MANIFEST.tsv
printf 'file\tkind\twhat\n' > $manifest
add() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> $manifest; }
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
clip() { # clip NAME EXTRA_ARGS...: make_clip's short scenario as NAME, its truth as NAME less the extension + .txt
    local name=$1; shift
    "$make_clip" --scenario short "$@" "$name" "${name%.*}.txt"
}

# Overwrites COUNT bytes at OFFSET of FILE with a fixed pattern.
stamp() {
    local file=$1 offset=$2 count=$3
    head -c "$count" /dev/zero | tr '\0' '\245' |
        dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

# Offset and size of the payload of the first top-level 'mdat' box of an MP4.
mdat_payload() {
    local file=$1 off size
    off=$(grep -obUa mdat "$file" | head -1 | cut -d: -f1)
    [ -n "$off" ] || die "$file: no mdat"
    size=$(od -An -tu1 -j $((off - 4)) -N4 "$file" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
    [ "$size" -gt 8 ] && [ $((off - 4 + size)) -le "$(stat -c %s "$file")" ] ||
        die "$file: no plain mdat box at $((off - 4))"
    echo "$((off + 4)) $((size - 8))"
}

# --- good clips: every container and codec, each with its truth ---------
clip short.mp4
add short.mp4 ok "H.264 + AAC, MP4, faststart, 1280x720, 25 fps, 2 s (make_clip --scenario short)"
clip short_moov_end.mp4 --no-faststart
add short_moov_end.mp4 ok "as short.mp4 with the index (moov) after the data"
clip mkv_vp9.mkv --codec libvpx-vp9
add mkv_vp9.mkv ok "VP9 + AAC, Matroska"
clip webm_vp9.webm --codec libvpx-vp9
add webm_vp9.webm ok "VP9 + Opus, WebM"
clip avi_mpeg4.avi --codec mpeg4
add avi_mpeg4.avi ok "MPEG-4 part 2 + PCM, AVI"
clip mov_hevc.mov --codec libx265
add mov_hevc.mov ok "HEVC (hvc1) + AAC, QuickTime MOV"
clip odd_719x405.mp4 --size 719x405 --face 140 --pix-fmt yuv444p
add odd_719x405.mp4 ok "odd size 719x405, H.264 High 4:4:4 (x264 refuses odd sizes in 4:2:0)"
clip odd_719x405_vp9.webm --size 719x405 --face 140 --codec libvpx-vp9
add odd_719x405_vp9.webm ok "odd size 719x405, VP9 4:2:0"

# --- converted or refused ------------------------------------------------
clip tenbit.mp4 --pix-fmt yuv420p10le
add tenbit.mp4 convert "10-bit H.264 (High 10, yuv420p10le), SDR tags"
ff -i short.mp4 -c:v libx265 -preset veryfast -crf 22 -pix_fmt yuv420p10le -tag:v hvc1 \
    -x265-params log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc \
    -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -c:a copy hdr_pq.mp4
cp short.txt hdr_pq.txt
add hdr_pq.mp4 convert "HDR: 10-bit HEVC, PQ (smpte2084), BT.2020 primaries and matrix, tagged in stream and container"
ff -i short.mp4 -c copy -metadata:s:v rotate=90 rotated_90.mp4
cp short.txt rotated_90.txt
add rotated_90.mp4 convert "phone video: display matrix rotation 90 (frames stored unrotated; the truth is of the stored frames)"
ff -i short.mp4 \
    -vf "select='not(eq(mod(n\,5)\,2))',settb=1/1000,setpts='(N/25+0.012*mod(N\,3))/TB'" \
    -fps_mode vfr -enc_time_base:v 1:1000 -video_track_timescale 1000 \
    -c:v libx264 -crf 18 -preset veryfast -c:a copy vfr.mp4
add vfr.mp4 convert "variable frame rate: 40 of 50 frames, gaps of 52, 52 and 16 ms (timestamps must be kept)"

# --- bad -----------------------------------------------------------------
printf 'This is not a video, only text with an .mp4 name.\n' > not_video.mp4
add not_video.mp4 bad "a text file named .mp4"
: > empty.mp4
add empty.mp4 bad "zero bytes"
cp "$FS_TESTDATA_DIR/astronaut.png" image_as_video.mp4
add image_as_video.mp4 bad "a PNG named .mp4 (FFmpeg's probe opens it as a one-frame image2 'video')"
size=$(stat -c %s short_moov_end.mp4)
head -c $((size / 2)) short_moov_end.mp4 > truncated_no_moov.mp4
add truncated_no_moov.mp4 bad "moov at the end, file cut in half: no index"
read -r payload psize < <(mdat_payload short.mp4)
head -c $((payload + psize * 6 / 10)) short.mp4 > truncated_mid_mdat.mp4
add truncated_mid_mdat.mp4 damaged "faststart, cut at 60% of the media data: index lists samples past the end"
ff -i short.mp4 -vn -c:a copy audio_only.m4a
add audio_only.m4a bad "audio only (AAC in M4A)"
ff -i short.mp4 -vn -c:a copy -f mp4 audio_only.mp4
add audio_only.mp4 bad "no video stream: AAC alone in an .mp4"
ff -i short.mp4 -an -frames:v 0 -c:v libx264 -movflags +empty_moov+frag_keyframe zero_frames.mp4
add zero_frames.mp4 bad "a video track (H.264 1280x720) with no samples (fragmented MP4, empty moov)"
cp short.mp4 corrupt_mid.mp4
cp short.txt corrupt_mid.txt
for pct in 30 50 70; do
    stamp corrupt_mid.mp4 $((payload + psize * pct / 100)) 1500
done
add corrupt_mid.mp4 damaged "short.mp4 with 1500 bytes of 0xA5 at 30, 50 and 70% of mdat (decode errors mid-stream)"

# --- limits --------------------------------------------------------------
"$make_clip" --scenario short --size 4096x2304 --face 700 --seconds 0.08 --no-audio --background plain \
    large_4096x2304.mp4 large_4096x2304.txt
add large_4096x2304.mp4 limit "4096x2304 (9.4 Mpixel), 2 frames: for a pixel limit"
ff -f lavfi -i color=c=0x607080:s=64x36:r=25:d=600 -c:v libx264 -preset ultrafast -crf 30 \
    -pix_fmt yuv420p long_tiny.mp4
add long_tiny.mp4 limit "64x36, 25 fps, 10 minutes (15000 frames): for a duration or frame limit"

echo "make-bad-clips: in $dir:"
column -t -s $'\t' $manifest 2>/dev/null || cat $manifest
