#!/bin/sh
# install-chromium.sh installs Debian's chromium package for the dashboard's
# headless browser test (web/chromium_test.go) when it is not already there.
# It needs root (CI runs it as root; locally use sudo).
set -eu

if [ -x /usr/bin/chromium ]; then
	echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium
/usr/bin/chromium --version
