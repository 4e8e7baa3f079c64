#!/usr/bin/env bash
# BranchBook's one entry point on a fresh machine:
#   bash tools/dev.sh demo   set everything up, then run `branchbook demo`
#   bash tools/dev.sh test   set everything up (LibreOffice, Dovecot, CJK fonts included), lint, run all tests
set -euo pipefail
cd "$(dirname "$0")/.."

python_env() {
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
}

# Debian packages the tests drive for real: a second spreadsheet program, an IMAP server, CJK fonts.
system_packages() {
    local missing=()
    command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui libreoffice-writer-nogui)
    [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
    fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
    command -v pdftoppm >/dev/null || missing+=(poppler-utils)
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "installing: ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

case "${1:-}" in
    demo)
        python_env
        shift
        exec .venv/bin/branchbook demo "$@"
        ;;
    test)
        python_env
        system_packages
        shift
        .venv/bin/ruff check .
        exec .venv/bin/python -m pytest "$@"
        ;;
    *)
        echo "usage: bash tools/dev.sh demo|test [args]" >&2
        exit 2
        ;;
esac
