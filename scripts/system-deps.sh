#!/usr/bin/env bash
# System packages pip cannot give: FFmpeg (ffprobe checks), Chromium (page and WebRTC tests),
# GStreamer's RTSP server (a real RTSP server in tests), CJK fonts (Chinese labels).
# Installs only what is missing; needs root (as on these machines and in CI).
set -euo pipefail
need=()
command -v ffprobe >/dev/null || need+=(ffmpeg)
command -v chromium >/dev/null || need+=(chromium)
[ -e /usr/lib/x86_64-linux-gnu/girepository-1.0/GstRtspServer-1.0.typelib ] || [ -n "$(ls /usr/lib/*/girepository-1.0/GstRtspServer-1.0.typelib 2>/dev/null)" ] \
  || need+=(gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
            gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools)
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "system-deps: installing ${need[*]}"
  if [ "$(id -u)" != 0 ]; then echo "system-deps: need root for apt-get install ${need[*]}" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
