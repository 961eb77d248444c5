#!/usr/bin/env bash
# Installs every Debian package needed to configure, build and test the plugin.
# Idempotent and non-interactive; returns quickly when everything is already there.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build
  paraview paraview-dev python3-paraview
  qtbase5-dev qttools5-dev libqt5svg5-dev libqt5x11extras5-dev qtxmlpatterns5-dev-tools
  libqt5opengl5-dev libhdf5-openmpi-dev libnetcdf-dev libgdal-dev libtheora-dev libglew-dev
  libgl2ps-dev libfreetype-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libeigen3-dev libexpat1-dev libboost-dev libjpeg-dev libpng-dev libtiff-dev liblz4-dev
  liblzma-dev zlib1g-dev libdouble-conversion-dev libutfcpp-dev libxml2-dev libopenmpi-dev
  openmpi-bin python3-mpi4py python3-dev python3-numpy python3-scipy libx11-dev libxt-dev
  libinsighttoolkit5-dev libopenmesh-dev
  libgtest-dev libbenchmark-dev xvfb xauth
  python3-pydicom
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${#missing[@]} missing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
