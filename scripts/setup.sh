# shellcheck shell=sh
# Prepares a machine for agentroom development: Deno 2.x, redis-server, and
# node_modules matching deno.lock. Idempotent and fast when all is present.
#
#   . scripts/setup.sh     (from scripts/test.sh and scripts/demo.sh)
#   sh scripts/setup.sh    (alone)
#
# Exports REDISMS_SYSTEM_BINARY (so redis-memory-server never downloads),
# NO_COLOR=1 and RUST_BACKTRACE=0. POSIX sh; sets no shell options, so it is
# safe to source. On failure it prints `setup: error: ...` and returns 1.

AGENTROOM_DENO_VERSION=2.9.6

_ar_say() { printf 'setup: %s\n' "$*" >&2; }
_ar_fail() {
  printf 'setup: error: %s\n' "$*" >&2
  return 1
}

# The repository root: the caller's AGENTROOM_ROOT, else the parent of the
# directory of $0 (scripts/ when run or sourced by our scripts), else cwd.
_ar_find_root() {
  if [ -n "${AGENTROOM_ROOT:-}" ] && [ -f "$AGENTROOM_ROOT/deno.json" ]; then
    return 0
  fi
  _ar_dir=$(cd "$(dirname -- "$0")/.." 2>/dev/null && pwd)
  if [ -n "$_ar_dir" ] && [ -f "$_ar_dir/deno.json" ] && [ -f "$_ar_dir/scripts/setup.sh" ]; then
    AGENTROOM_ROOT=$_ar_dir
  elif [ -f ./deno.json ] && [ -f ./scripts/setup.sh ]; then
    AGENTROOM_ROOT=$(pwd)
  else
    _ar_fail "cannot find the agentroom repository; run this from its root"
    return 1
  fi
  export AGENTROOM_ROOT
}

# Runs a command as root: directly, or through sudo when that needs no password.
_ar_as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

_ar_can_be_root() {
  [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }
}

_ar_is_macos() { [ "$(uname -s 2>/dev/null)" = Darwin ]; }

_ar_install_deno() {
  _ar_tools_bin="$AGENTROOM_ROOT/.tools/node_modules/.bin"
  # A project-local Deno from an earlier run.
  if [ -x "$_ar_tools_bin/deno" ]; then
    PATH="$_ar_tools_bin:$PATH"
    export PATH
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    if _ar_is_macos; then
      _ar_fail "Deno is missing and npm is not available. Install Deno and Redis with: brew install deno redis"
    else
      _ar_fail "Deno is missing and npm is not available. Install Node.js and npm, then: npm i -g deno@$AGENTROOM_DENO_VERSION (or see https://docs.deno.com/runtime/getting_started/installation/)"
    fi
    return 1
  fi
  _ar_say "installing Deno $AGENTROOM_DENO_VERSION with npm"
  _ar_prefix=$(npm prefix -g 2>/dev/null)
  if [ "$(id -u)" = 0 ] || { [ -n "$_ar_prefix" ] && [ -w "$_ar_prefix" ] &&
    { [ ! -e "$_ar_prefix/lib" ] || [ -w "$_ar_prefix/lib" ]; }; }; then
    if npm i -g --no-fund --no-audit --loglevel=error --allow-scripts=deno \
      "deno@$AGENTROOM_DENO_VERSION" >&2; then
      if ! command -v deno >/dev/null 2>&1 && [ -x "$_ar_prefix/bin/deno" ]; then
        PATH="$_ar_prefix/bin:$PATH"
        export PATH
      fi
      command -v deno >/dev/null 2>&1 && return 0
      _ar_say "global install finished but deno is not on PATH; trying a project-local install"
    else
      _ar_say "global npm install failed; trying a project-local install in .tools/"
    fi
  else
    _ar_say "no permission for a global npm install; installing into .tools/ (gitignored)"
  fi
  # A project-scoped install takes its script policy from package.json (npm
  # rejects --allow-scripts there); deno's postinstall links the native binary.
  mkdir -p "$AGENTROOM_ROOT/.tools" || return 1
  if [ ! -f "$AGENTROOM_ROOT/.tools/package.json" ]; then
    printf '{ "private": true, "allowScripts": { "deno": true } }\n' \
      >"$AGENTROOM_ROOT/.tools/package.json" || return 1
  fi
  if ! npm install --prefix "$AGENTROOM_ROOT/.tools" --no-fund --no-audit --loglevel=error \
    "deno@$AGENTROOM_DENO_VERSION" >&2; then
    _ar_fail "could not install Deno with npm. Install it yourself: npm i -g deno@$AGENTROOM_DENO_VERSION"
    return 1
  fi
  if [ ! -x "$_ar_tools_bin/deno" ]; then
    _ar_fail "npm installed Deno but $_ar_tools_bin/deno is missing"
    return 1
  fi
  PATH="$_ar_tools_bin:$PATH"
  export PATH
}

_ar_check_deno_version() {
  _ar_deno_line=$(deno --version 2>/dev/null | head -n 1)
  _ar_deno_major=$(printf '%s\n' "$_ar_deno_line" | sed -n 's/^deno \([0-9][0-9]*\)\..*/\1/p')
  if [ -z "$_ar_deno_major" ]; then
    _ar_fail "'deno --version' did not work (got: ${_ar_deno_line:-nothing}); reinstall with: npm i -g deno@$AGENTROOM_DENO_VERSION"
    return 1
  fi
  if [ "$_ar_deno_major" -lt 2 ]; then
    _ar_say "warning: $_ar_deno_line is too old; agentroom needs Deno 2.x (npm i -g deno@$AGENTROOM_DENO_VERSION)"
  fi
  return 0
}

_ar_install_redis() {
  if _ar_is_macos; then
    _ar_fail "redis-server is missing. Install it with: brew install redis"
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    _ar_fail "redis-server is missing and apt-get is not available. Install Redis (redis-server 6.2 or newer) with your package manager, or on macOS: brew install redis"
    return 1
  fi
  if ! _ar_can_be_root; then
    _ar_fail "redis-server is missing and installing it needs root. Run: sudo apt-get install -y redis-server redis-tools"
    return 1
  fi
  _ar_say "installing redis-server redis-tools with apt-get"
  if ! _ar_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
    ! _ar_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      redis-server redis-tools >&2; then
    _ar_fail "apt-get could not install redis-server redis-tools"
    return 1
  fi
  command -v redis-server >/dev/null 2>&1 || {
    _ar_fail "apt-get finished but redis-server is not on PATH"
    return 1
  }
}

# tmux, for `relay --tmux` and its tests: installed with apt when missing.
_ar_install_tmux() {
  command -v tmux >/dev/null 2>&1 && return 0
  if _ar_is_macos || ! command -v apt-get >/dev/null 2>&1 || ! _ar_can_be_root; then
    _ar_fail "tmux is missing (relay --tmux and its tests need it). Install it: apt-get install tmux, or brew install tmux"
    return 1
  fi
  _ar_say "installing tmux with apt-get"
  if ! _ar_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >&2; then
    _ar_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    _ar_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >&2 || {
      _ar_fail "apt-get could not install tmux"
      return 1
    }
  fi
}

_ar_setup() {
  _ar_find_root || return 1

  if ! command -v deno >/dev/null 2>&1; then
    _ar_install_deno || return 1
  fi
  _ar_check_deno_version || return 1

  if [ -n "${REDISMS_SYSTEM_BINARY:-}" ] && [ -x "$REDISMS_SYSTEM_BINARY" ]; then
    :
  else
    if ! command -v redis-server >/dev/null 2>&1; then
      _ar_install_redis || return 1
    fi
    REDISMS_SYSTEM_BINARY=$(command -v redis-server)
  fi
  export REDISMS_SYSTEM_BINARY
  _ar_install_tmux || return 1

  NO_COLOR=1
  RUST_BACKTRACE=0
  DENO_NO_UPDATE_CHECK=1
  export NO_COLOR RUST_BACKTRACE DENO_NO_UPDATE_CHECK

  # node_modules exactly as deno.lock says; lifecycle scripts stay off, so
  # redis-memory-server's download-on-install never runs.
  if ! _ar_out=$(cd "$AGENTROOM_ROOT" && deno install --frozen --quiet 2>&1); then
    printf '%s\n' "$_ar_out" >&2
    _ar_fail "'deno install --frozen' failed (if deno.json changed, run 'deno install' and commit deno.lock)"
    return 1
  fi
  return 0
}

# `return` works when sourced; when run alone it is not allowed at top level,
# so fall through to `exit`.
_ar_setup || return 1 2>/dev/null || exit 1
