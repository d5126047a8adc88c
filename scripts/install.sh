#!/usr/bin/env bash
# Installs f2f and everything it needs. Usage: bash scripts/install.sh [--test]
#   --test  also the test tools: pytest, gradio_client, Playwright, Debian's chromium (the
#           browser test drives it; Playwright's own browser download is not used) and a
#           Devanagari font so screenshots show the Hindi text.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="whisper,train"
if [ "${1:-}" = "--test" ]; then
    extras="whisper,train,test,ray"  # ray: the batch tests run a local Ray instance
    missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    dpkg -s fonts-lohit-deva >/dev/null 2>&1 || missing+=(fonts-lohit-deva)
    if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" = "0" ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
        "${apt_get[@]}" update -qq || true
        DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq "${missing[@]}" >/dev/null \
            || echo "warning: could not install ${missing[*]}; the browser test will skip" >&2
    fi
fi
python3 -m pip install -q -e ".[${extras}]"
# Without its dependency list: that list pulls triton (~1 GB), useless on CPU.
python3 -m pip install -q --no-deps "openai-whisper==20250625"
