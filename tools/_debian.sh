# Debian packages for the set-up scripts (sourced, not run).

# Prints those of the named packages that are not installed, one per line.
missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
  done
}

# Installs the named packages as root where apt-get exists, saying so after the prefix $1;
# returns 1 without trying otherwise. An install that fails ends the script.
install_packages() {
  local who=$1
  shift
  [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null || return 1
  echo "$who: installing $*"
  if ! { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }; then
    echo "$who: installing $* failed" >&2
    exit 1
  fi
}
