#!/bin/sh
# Unpacks Debian 12's own nodejs 18 (and the shared builtins it loads from /usr/share/nodejs) into DIR
# without installing anything, and writes DIR/node18: a wrapper that lays DIR's /usr/share/nodejs over
# the system's in a private mount namespace. Needs root (unshare -m, mount) and apt-get download.
# Used to check that the agent bundle runs on the Node of the agent VM image:
#   sh packages/agent/scripts/debian-node18.sh /tmp/node18
#   ICAAS_E2E_AGENT=bundle ICAAS_E2E_NODE=/tmp/node18/node18 node scripts/run-tests.mjs tests/e2e
set -eu
DIR=${1:?usage: debian-node18.sh DIR}
mkdir -p "$DIR" && cd "$DIR"
V=$(apt-cache madison nodejs | awk '$3 ~ /^18\./ {print $3; exit}')
[ -n "$V" ] || { echo "no nodejs 18 in the apt sources" >&2; exit 1; }
apt-get download "nodejs=$V" "libnode108=$V" libc-ares2 node-acorn node-cjs-module-lexer node-undici
for f in *.deb; do dpkg -x "$f" root; done
cat > node18 <<'WRAP'
#!/bin/sh
D=$(cd "$(dirname "$0")" && pwd)/root
exec unshare -m sh -c 'mount -t overlay overlay -o "lowerdir=$1/usr/share:/usr/share" /usr/share && shift && exec env LD_LIBRARY_PATH="$0/usr/lib/x86_64-linux-gnu" "$0/usr/bin/node" "$@"' "$D" "$D" "$@"
WRAP
chmod +x node18
./node18 --version
