#!/usr/bin/env bash
# Set up kehoach on a fresh machine and run it once on the sample plans shipped in the package.
#   bash install.sh                 # virtualenv in .venv, install, load the samples, ask two questions
#   bash install.sh --with-browser  # also Debian's chromium + chromedriver (for the web page test; needs root)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "install.sh: could not install chromium; the browser test will be skipped" >&2
  else
    echo "install.sh: --with-browser needs root and apt-get; skipping" >&2
  fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q torch==2.13.0            # the CPU build; pinned so nothing pulls a CUDA torch
.venv/bin/pip install -q -e ".[test]"
export KEHOACH_HOME=${KEHOACH_HOME:-$PWD/.kehoach-home}
.venv/bin/kehoach add kehoach/samples
.venv/bin/kehoach list
.venv/bin/kehoach who "ai chủ trì thành lập Ban Chỉ đạo cải cách hành chính tỉnh" --limit 3 || true
.venv/bin/kehoach search "thanh toan truc tuyen" --limit 3
