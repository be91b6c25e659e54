# Sourced by bin/deployer, bin/test, bin/bench and .ci/run. Makes a fresh machine ready:
# the project's own virtual environment in .venv (created when missing, reinstalled
# when pyproject.toml changed), and checkov's in .venv-checkov when asked for.
# Nothing else: the deployer finds Terraform's provider mirror itself
# (deployer/toolchain.py), so the console script in .venv/bin works on its own.
# Messages go to stderr so stdout stays the command's own (for --json).

_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_venv="$_root/.venv"

_say() { printf 'bootstrap: %s\n' "$*" >&2; }

_python() {
  for candidate in "${DEPLOYER_PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# Installs packages into the virtual environment $1 with uv when it can be had (a cold
# install of the project and checkov took 30 s with it and 127 s with pip on this
# machine, 2026-12-01), with pip otherwise. uv goes into .venv itself (pip installs it
# there first); bytecode is compiled at install, as pip does, because PYTHONDONTWRITEBYTECODE
# would otherwise make every run compile boto3 and moto from source. DEPLOYER_INSTALLER=pip
# forces pip.
_install() {
  local env="$1"
  shift
  if [ "${DEPLOYER_INSTALLER:-uv}" = "uv" ]; then
    if [ -x "$_venv/bin/uv" ] || "$_venv/bin/python" -m pip install --quiet uv >/dev/null 2>&1; then
      "$_venv/bin/uv" pip install --quiet --compile-bytecode --python "$env/bin/python" "$@"
      return
    fi
    _say "uv could not be installed: installing with pip"
  fi
  "$env/bin/python" -m pip install --quiet "$@"
}

_ensure_venv() {
  local stamp="$_venv/.installed" want
  want="$(cat "$_root/pyproject.toml" | sha256sum | cut -c1-16)"
  if [ -x "$_venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  local py
  if ! py="$(_python)"; then
    _say "error: Python >= 3.11 is required (set DEPLOYER_PYTHON to one)"
    return 2
  fi
  if [ ! -x "$_venv/bin/python" ]; then
    _say "creating the virtual environment in .venv ($("$py" --version))"
    "$py" -m venv "$_venv"
  fi
  _say "installing the project and its test tools into .venv"
  if ! _install "$_venv" -e "${_root}[test]" >"$_venv/install.log" 2>&1; then
    grep -v 'is ignored: it is neither' "$_venv/install.log" >&2
    _say "error: installing the project failed (log: .venv/install.log)"
    return 1
  fi
  # The deployer's own bytecode, as a non-editable install has it: where
  # PYTHONDONTWRITEBYTECODE is set (this machine image sets it), Python would otherwise
  # compile every deployer module from source on every run (about 0.1 to 0.2 s a run,
  # bench/startup --bytecode both). A module edited later is compiled again in memory.
  "$_venv/bin/python" -m compileall -q -j 0 "$_root/deployer" >/dev/null 2>&1 || true
  echo "$want" > "$stamp"
}

# checkov pins an old boto3 that would fight moto's, so it lives in a venv of its own.
CHECKOV_VERSION="3.3.30"
_ensure_checkov() {
  local tool="$_root/.venv-checkov"
  if [ -x "$tool/bin/checkov" ] && [ "$(cat "$tool/.installed" 2>/dev/null)" = "$CHECKOV_VERSION" ]; then
    return 0
  fi
  local py
  py="$(_python)" || return 2
  _say "installing checkov $CHECKOV_VERSION into .venv-checkov"
  [ -x "$tool/bin/python" ] || "$py" -m venv "$tool"
  if ! _install "$tool" "checkov==$CHECKOV_VERSION" >"$tool/install.log" 2>&1; then
    grep -v 'is ignored: it is neither' "$tool/install.log" >&2
    _say "error: installing checkov failed (log: .venv-checkov/install.log)"
    return 1
  fi
  echo "$CHECKOV_VERSION" > "$tool/.installed"
}

_ensure_venv || exit $?
[ "${DEPLOYER_BOOTSTRAP_CHECKOV:-0}" = "1" ] && { _ensure_checkov || exit $?; }
export PATH="$_venv/bin:$PATH"
