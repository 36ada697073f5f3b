#!/usr/bin/env bash
# Install the named Debian packages that are missing, when this user may (root or sudo).
# Otherwise print what is missing and how to install it; never fail the build for it.
set -u
missing=()
# One dpkg-query for all packages (`make run` calls this every time: keep it cheap).
installed=" $(dpkg-query -W -f='${db:Status-Abbrev}${Package} ' "$@" 2>/dev/null | tr -s ' ') "
for pkg in "$@"; do
  [[ "$installed" == *" ii $pkg "* ]] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not a Debian/Ubuntu system; please install the equivalents of: ${missing[*]}" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "note: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    exit 0
  fi
fi
echo "installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -qq >/dev/null || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "warning: apt-get could not install ${missing[*]}; tests that need them will skip" >&2
