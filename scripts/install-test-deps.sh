#!/usr/bin/env bash
# What the tests need beyond npm packages, from Debian's packages (never a browser
# download): Chromium for the browser tests, iproute2 and util-linux for the private
# network namespace they run in, coturn for the TURN tests, nftables for the NAT routers of the
# phones-behind-NAT test.
# Does nothing when everything is there.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need: ${need[*]}. Install them (as root: apt-get install ${need[*]}) and run again." >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian's packages…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
