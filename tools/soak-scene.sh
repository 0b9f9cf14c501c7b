#!/usr/bin/env bash
# The false-alarm soak of C8 (docs/camera-agent.md, "False alarms over a long
# soak"): hours of a normal scene at the door, simulated at frame rate and
# decoded by FFmpeg, measured and signed as lk-camera-agent does, judged by
# the hub's own LivenessMonitor (tests/scene_tamper/lk_scene_soak_main.cpp).
#
#   tools/soak-scene.sh [--hours H] [--fps F] [--soak PATH] [--print-graph]
#
# The scene (FFmpeg lavfi, 320x180): the moving test picture; people walking
# across every 13 s; every 3 minutes someone standing close to the door for
# 10 s; daylight falling slowly to dusk and rising again (a 4-hour cycle);
# at night the camera's IR mode: grey, stronger contrast, switched abruptly
# on and off; the sensor's noise on every frame. The camera's limits are
# set as docs/camera-agent.md says a person sets them: luminance 8-247,
# sharpness a third of the lowest seen at night, similarity 300.
# Prints the soak's figures; exit status 0 when no alarm was raised.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
hours=8
fps=5
soak="$root/build/tests/scene_tamper/lk-scene-soak"
print_graph=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --hours) hours=$2; shift 2 ;;
    --fps) fps=$2; shift 2 ;;
    --soak) soak=$2; shift 2 ;;
    --print-graph) print_graph=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "soak-scene.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ ! -x "$soak" && "$soak" == "$root/build/tests/scene_tamper/lk-scene-soak" ]]; then
  "$root/tools/build.sh" lk-scene-soak >/dev/null   # builds what is missing, as demo.sh does
fi
[[ -x "$soak" ]] || { echo "soak-scene.sh: $soak not built (cmake --build build --target lk-scene-soak)" >&2; exit 2; }
seconds=$(awk -v h="$hours" 'BEGIN { printf "%d", h * 3600 }')
[[ "$seconds" -gt 0 ]] || { echo "soak-scene.sh: --hours must be above 0" >&2; exit 2; }

day=14400        # the light's cycle, s
night_from=5400  # IR on at 1.5 h into each cycle ...
night_to=9000    # ... and off at 2.5 h
graph="testsrc2=size=320x180:rate=$fps"
# Passers-by: a dark figure crossing the view every 13 s.
graph+=",drawbox=x='mod(t*30\,400)-80':y=40:w=36:h=120:color=0x202020:t=fill"
# Someone standing close to the door, 10 s every 3 minutes.
graph+=",drawbox=x=170:y=10:w=110:h=170:color=0x3a3028:t=fill:enable='lt(mod(t\,180)\,10)'"
# Daylight: the picture darkens to dusk and back over the cycle.
graph+=",eq=brightness='-0.30*(1-cos(2*PI*t/$day))/2':contrast='1-0.35*(1-cos(2*PI*t/$day))/2':eval=frame"
# Night: the IR mode, switched abruptly.
graph+=",hue=s=0:enable='between(mod(t\,$day)\,$night_from\,$night_to)'"
graph+=",eq=contrast=1.4:brightness=0.12:enable='between(mod(t\,$day)\,$night_from\,$night_to)'"
graph+=",noise=alls=6:allf=t+u"
if [[ $print_graph == 1 ]]; then echo "$graph"; exit 0; fi

echo "soak-scene: $hours h at $fps frames/s ($seconds s of scene), 320x180" >&2
ffmpeg -nostdin -v error -f lavfi -i "$graph" -t "$seconds" -pix_fmt gray -f rawvideo - |
  "$soak" --width 320 --height 180 --fps "$fps" --reference-s 1 \
    --min-luminance 8000 --max-luminance 247000 --min-sharpness "${LK_SOAK_MIN_SHARPNESS:-3000}" --min-similarity "${LK_SOAK_MIN_SIMILARITY:-300}"
