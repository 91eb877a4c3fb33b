#!/usr/bin/env bash
# What the test suite needs from the system, installed or started when missing:
# - PostgreSQL on 127.0.0.1:5432 (trust auth for local connections; tests/test_postgres.py connects as postgres)
# - LibreOffice (soffice, Debian package libreoffice-writer-nogui): a real office producer of DOCX and PDF
#   files for the NDA reviewer's tests and evals
# - Chromium (Debian package chromium): a real browser for the web page's test
# The embedded default service needs none of this.
set -euo pipefail

if ! command -v soffice >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing LibreOffice Writer (Debian package, about a minute) ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui >/dev/null
  else
    echo "error: LibreOffice (soffice) is not installed and cannot be installed here (need root and apt-get)" >&2
    exit 1
  fi
fi

# Chromium for the web page's end-to-end test (driven by Playwright with executable_path)
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium (Debian package) ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: chromium is not installed and cannot be installed here (need root and apt-get)" >&2
    exit 1
  fi
fi

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL (Debian package) ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    version="$(ls /etc/postgresql | sort -n | tail -1)"
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    # a throwaway test server on loopback: trust local connections (never do this on a shared host)
    sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/; s/^(local\s+all\s+postgres\s+)\S+/\1trust/' "$hba"
  else
    echo "error: PostgreSQL is not installed and cannot be installed here (need root and apt-get)" >&2
    exit 1
  fi
fi
if ! pg_ready; then
  echo "starting PostgreSQL ..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -n | tail -1)" main start
  for _ in $(seq 1 50); do pg_ready && break; sleep 0.2; done
fi
pg_ready || { echo "error: PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
