#!/usr/bin/env bash
# Set up kehoach on a fresh machine and run it once on the sample plans shipped in the package.
#   bash install.sh                 # virtualenv in .venv, install, load the samples, ask two questions
#   bash install.sh --with-browser  # also Debian's chromium + chromedriver (for the web page test; needs root)
#   bash install.sh --with-postgres # also Debian's postgresql (the store tests start a throwaway cluster of it)
# (the two flags combine, in any order)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
# System packages (Debian), one apt step as root: LibreOffice reads .doc/.rtf/.odt, Tesseract with its
# Vietnamese model reads scanned PDFs, LibreOffice Calc opens the registry CSV in its test; --with-browser
# adds chromium for the web page test; --with-postgres adds Debian's postgresql server binaries, which the
# store tests use for a throwaway cluster (initdb in a temporary folder; the package's own cluster is not used).
APT_PKGS="libreoffice-writer-nogui libreoffice-calc-nogui tesseract-ocr tesseract-ocr-vie"
for arg in "$@"; do
  case "$arg" in
    --with-browser) APT_PKGS="$APT_PKGS chromium chromium-driver" ;;
    --with-postgres) APT_PKGS="$APT_PKGS postgresql" ;;   # server binaries only: no cluster is set up here
    *) echo "install.sh: unknown option $arg (--with-browser, --with-postgres)" >&2; exit 2 ;;
  esac
done
MISSING=""
for pkg in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || MISSING="$MISSING $pkg"
done
if [ -n "$MISSING" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $MISSING >/dev/null) \
      || echo "install.sh: could not install$MISSING (.doc/.rtf/.odt, scanned PDFs or the browser test need them)" >&2
  else
    echo "install.sh: installing$MISSING needs root and apt-get; without them .doc/.rtf/.odt and scanned PDFs are refused" >&2
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
