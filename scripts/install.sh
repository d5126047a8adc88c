#!/usr/bin/env bash
# Installs f2f and everything it needs into a virtual environment, .venv/ in the repository
# (Debian's and Ubuntu's system Python refuse `pip install`: "externally-managed-environment").
# Usage: bash scripts/install.sh [--test]; then run f2f as .venv/bin/python -m f2f ...
#   --test  also the test tools: pytest, gradio_client, Playwright, Debian's chromium (the
#           browser test drives it; Playwright's own browser download is not used) and a
#           Devanagari font so screenshots show the Hindi text.
# PYTHON=/path/to/python3.11 picks the interpreter the environment is made from (3.11+).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv=".venv"

apt_install() {  # apt_install PACKAGE...: as root, or through sudo; a no-op without apt
    command -v apt-get >/dev/null 2>&1 || return 1
    if [ "$(id -u)" = "0" ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    "${apt_get[@]}" update -qq || true
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq "$@" >/dev/null
}

extras="whisper,train"
if [ "${1:-}" = "--test" ]; then
    extras="whisper,train,test,ray"  # ray: the batch tests run a local Ray instance
    missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    dpkg -s fonts-lohit-deva >/dev/null 2>&1 || missing+=(fonts-lohit-deva)
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}" \
            || echo "warning: could not install ${missing[*]}; the browser test will fail" >&2
    fi
fi

if [ ! -x "$venv/bin/python" ]; then
    # Debian ships venv's pip bootstrap separately (python3-venv)
    if ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then
        apt_install python3-venv || {
            echo "error: $python cannot make a virtual environment; install python3-venv" >&2
            exit 1
        }
    fi
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q -e ".[${extras}]"
# Without its dependency list: that list pulls triton (~1 GB), useless on CPU.
"$venv/bin/python" -m pip install -q --no-deps "openai-whisper==20250625"
echo "installed into $venv/; run f2f with: $venv/bin/python -m f2f --help" >&2
