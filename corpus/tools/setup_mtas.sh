#!/bin/sh
# Unpack the Debian MTAs that make_mta_dsns.py runs, without installing them
# (they conflict as mail-transport-agent). Run as root; Debian 12 (bookworm).
#   sh corpus/tools/setup_mtas.sh [/tmp/mtadebs]
set -eu
ROOT=${1:-/tmp/mtadebs}
mkdir -p "$ROOT" && cd "$ROOT"
apt-get download exim4-daemon-light exim4-base opensmtpd sendmail-bin sendmail-base sendmail-cf m4
rm -rf root-exim root-opensmtpd root-sendmail root-m4
mkdir -p root-exim root-opensmtpd root-sendmail root-m4
for d in exim4-*.deb; do dpkg-deb -x "$d" root-exim; done
dpkg-deb -x opensmtpd_*.deb root-opensmtpd
for d in sendmail-*.deb; do dpkg-deb -x "$d" root-sendmail; done
dpkg-deb -x m4_*.deb root-m4
# Postfix is the installed one (apt-get install postfix).
# Exim re-executes itself with a clean environment, so its one missing library
# must be where the loader looks by default.
apt-get install -y libidn12
# The users the binaries were built to run as.
getent passwd Debian-exim >/dev/null || useradd --system --user-group --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim
for u in opensmtpd opensmtpq; do
    getent passwd $u >/dev/null || useradd --system --user-group --no-create-home \
        --home-dir /var/lib/opensmtpd/empty --shell /usr/sbin/nologin $u
done
mkdir -p /var/lib/opensmtpd/empty
echo "unpacked under $ROOT"
