#!/usr/bin/env bash
# BranchBook's one entry point on a fresh machine:
#   bash tools/dev.sh demo   set everything up (a Chinese font for the bulletin's charts included), then run `branchbook demo`
#   bash tools/dev.sh test   set everything up (LibreOffice, Dovecot, CJK fonts included), lint, run all tests
set -euo pipefail
cd "$(dirname "$0")/.."

python_env() {
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
}

apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: $*"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Debian packages the tests drive for real: a second spreadsheet program, an IMAP server, CJK fonts.
system_packages() {
    local missing=()
    command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui libreoffice-writer-nogui)
    [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
    fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
    command -v pdftoppm >/dev/null || missing+=(poppler-utils)
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
}

# The bulletin's charts are drawn in a Chinese font (workbook/reports/fonts.py). When BranchBook finds
# none here, Debian's Noto Sans CJK is installed, the font the tests use; elsewhere it only says so.
chinese_font() {
    local found='from branchbook.workbook.reports.fonts import chinese_font; chinese_font()'
    .venv/bin/python -c "$found" 2>/dev/null && return 0
    if command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; }; then
        apt_install fonts-noto-cjk && .venv/bin/python -c "$found" 2>/dev/null && return 0
    fi
    echo "warning: no Chinese font found; \`branchbook bulletin\` needs one (Debian: apt-get install fonts-noto-cjk)" >&2
}

case "${1:-}" in
    demo)
        python_env
        chinese_font
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
