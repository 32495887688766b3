#!/usr/bin/env bash
# The fresh-machine check: the README's two commands in a bare Debian 12 root.
#   ./ipcproof fresh-machine [--keep] [--commands "run;test"] [--logs DIR]
# --commands: the ipcproof command lines to run, separated by ";" (e.g.
# "test -k test_a_kernel_image" to check that one test passes alone there).
# A bare root is made with debootstrap (minbase, plus git and ca-certificates:
# nothing else), the project's committed HEAD is cloned into it with shared/
# beside it, as CI has it, and each command runs there with CI=true.  The
# root is entered in private mount and pid namespaces with pivot_root, not
# chroot: the kernel refuses new user namespaces to a chrooted process (so
# gVisor could not start), and unshare cannot change the propagation of a
# root that is not a mount point, so the root is bound onto itself first.
# /proc is the new pid namespace's own, /sys and /dev the host's, /dev/shm and
# /tmp fresh tmpfs.  Everything is gone afterwards: the namespaces die with
# their last process, and the root is removed (unless --keep).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keep=0 commands="run;test" logs=""
while (($#)); do
  case "$1" in
    --keep) keep=1 ;;
    --commands) commands=${2:?--commands needs a list}; shift ;;
    --logs) logs=${2:?--logs needs a directory}; shift ;;
    *) echo "ipcproof: fresh-machine: unknown option $1 (--keep, --commands 'run;test', --logs DIR)" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "ipcproof: fresh-machine needs root (debootstrap, namespaces)" >&2; exit 2; }
git -C "$here" rev-parse --verify -q HEAD >/dev/null || { echo "ipcproof: fresh-machine: $here is not a git checkout" >&2; exit 2; }

cache=${IPCPROOF_CACHE:-$here/.cache}/fresh
mkdir -p "$cache"
parent=${IPCPROOF_FRESH_DIR:-/var/tmp}
work=$(mktemp -d "$parent/ipcproof-fresh-XXXXXX")
root=$work/root
logs=${logs:-$work/logs}
mkdir -p "$root" "$logs"
chmod 0755 "$work"

inner=""
cleanup() {
  local code=$?
  trap - EXIT INT TERM HUP
  # unshare passes SIGKILL on to the namespace's first process, and with it
  # dies everything inside.
  if [ -n "$inner" ]; then kill "$inner" 2>/dev/null || true; wait "$inner" 2>/dev/null || true; fi
  if ((keep)); then
    echo "ipcproof: fresh-machine: root kept in $root" >&2
  else
    # The mounts lived in the private namespace: nothing here is mounted
    # any more, so the removal stays on this filesystem.
    rm -rf --one-file-system "$root"
    [ "$logs" = "$work/logs" ] && echo "ipcproof: fresh-machine: logs in $logs" >&2
    rmdir "$work" 2>/dev/null || true
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The mirror this machine's apt already uses (never a host written here).
mirror() {
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  [ -n "$uri" ] || { echo "ipcproof: fresh-machine: no Debian mirror in this machine's apt sources" >&2; exit 2; }
  echo "$uri"
}

# A base tarball is kept in the cache: the root made from it is as bare as a
# debootstrap from the network, and a second check saves the download.
base=$cache/bookworm-minbase.tgz
if [ ! -s "$base" ]; then
  echo "ipcproof: fresh-machine: debootstrap of a bookworm minbase (once; kept as $base)" >&2
  debootstrap --variant=minbase --include=git,ca-certificates --make-tarball="$base.part" \
    bookworm "$work/tarball" "$(mirror)" >"$logs/debootstrap.log" 2>&1 \
    || { echo "ipcproof: fresh-machine: debootstrap failed; see $logs/debootstrap.log" >&2; exit 2; }
  mv "$base.part" "$base"
  rm -rf "$work/tarball"
fi
debootstrap --variant=minbase --include=git,ca-certificates --unpack-tarball="$base" \
  bookworm "$root" "$(mirror)" >>"$logs/debootstrap.log" 2>&1 \
  || { echo "ipcproof: fresh-machine: debootstrap failed; see $logs/debootstrap.log" >&2; exit 2; }

# apt as this machine has it (its mirror and suites), name resolution, and
# the project as CI gets it: a clone of what is committed, shared/ beside it.
rm -f "$root"/etc/apt/sources.list
cp -a /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# The certificate authorities this machine adds to Debian's (a TLS proxy on
# the way to the archive or the npm registry), as its network has them.
extra_ca=""
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  extra_ca=/etc/ssl/certs/ca-certificates.crt
fi
git clone -q "$here" "$root/root/ipcproof"
[ -d "$here/../shared" ] && cp -a "$here/../shared" "$root/root/shared"

inside=$(cat <<'EOF'
[ -z "$EXTRA_CA" ] || update-ca-certificates >/dev/null 2>&1
cd /root/ipcproof
IFS=';'
set -f
n=0
for command in $COMMANDS; do
  n=$((n + 1))
  start=$SECONDS
  IFS=' '
  set +e
  ./ipcproof $command </dev/null >"/logs/$n.log" 2>&1
  code=$?
  set -e
  IFS=';'
  echo "fresh-machine: ./ipcproof $command: exit $code in $((SECONDS - start)) s (log: $n.log)"
  tail -n 3 "/logs/$n.log" | sed 's/^/    /'
done
EOF
)
mkdir -p "$root/logs"
echo "ipcproof: fresh-machine: entering the bare root $root" >&2
unshare --mount --pid --fork --kill-child=SIGKILL --propagation private -- /bin/bash -euc '
  root=$1 logs=$2 inside=$3 commands=$4 extra_ca=$5
  mount --bind "$root" "$root"
  mount --bind "$logs" "$root/logs"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  cd "$root"
  mkdir -p .oldroot
  pivot_root . .oldroot
  umount -l /.oldroot
  rmdir /.oldroot
  exec env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 CI=true COMMANDS="$commands" EXTRA_CA="$extra_ca" ${extra_ca:+NODE_EXTRA_CA_CERTS=$extra_ca} \
    /bin/bash -euc "$inside"
' fresh "$root" "$logs" "$inside" "$commands" "$extra_ca" >"$logs/summary.txt" 2>&1 &
inner=$!
wait "$inner" || true
inner=""
cat "$logs/summary.txt"
! grep -q 'exit [1-9]' "$logs/summary.txt"
