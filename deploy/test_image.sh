#!/usr/bin/env bash
# Tests what the image's runtime stage holds, without a container engine.
#
# It lays out a root like gcr.io/distroless/cc-debian12:nonroot would hold for us:
# /exporter, exactly the glibc libraries `ldd` names (with the dynamic loader), an
# /etc/passwd with nonroot (65532), and empty /proc and /tmp. Then it runs the binary
# there as 65532 in fresh mount and PID namespaces, as a container runtime would:
# the exporter is PID 1 of its namespace, so SIGTERM reaches it only because it
# installs a handler (the kernel drops unhandled signals to a namespace's init), which
# is the very case of `kubectl delete pod`.
#
# Checks: the binary needs no glibc newer than Debian 12's; it runs as 65532, PID 1, on
# a read-only root; /metrics has the tutorial's foo_metric; /-/healthy and /-/ready
# answer 200; `/exporter --healthcheck` exits 0 while it runs and 1 once it is gone;
# SIGTERM makes it exit 0 within 2 s. Prints the root's size: the image's payload.
#
# Needs root (or CAP_SYS_ADMIN) for unshare and chroot; fails, never skips, without.
#
# Usage: deploy/test_image.sh [path/to/exporter]     (TEST_IMAGE_PORT picks the port)
set -euo pipefail

exporter=${1:-./exporter}
uid=65532
stop_within_ms=2000

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "  $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

[[ -x $exporter ]] || fail "no executable at $exporter: run 'make build' first"
for tool in unshare chroot ldd curl pgrep; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

# Before building anything: a test that cannot run must say so and fail.
if ! out=$(unshare --mount --pid --fork --kill-child true 2>&1); then
  fail "cannot create mount and PID namespaces (unshare -m -p -f): $out
  This test needs root or CAP_SYS_ADMIN; in a container, run it privileged."
fi

root=""
upid=""
cleanup() {
  if [[ -n $upid ]] && kill -0 "$upid" 2>/dev/null; then
    # --kill-child: SIGKILL to unshare takes the exporter with it.
    kill -KILL "$upid" 2>/dev/null || true
    wait "$upid" 2>/dev/null || true
  fi
  if [[ -n $root && -d $root ]]; then
    # /proc was mounted in the child's private mount namespace only, but be sure
    # before deleting: rm must never walk a live /proc.
    mountpoint -q "$root/proc" && umount -l "$root/proc"
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT

# mktemp -d makes a 0700 directory: uid 65532 could not even enter the root.
root=$(mktemp -d "${TMPDIR:-/tmp}/exporter-root.XXXXXX")
chmod 755 "$root"

# "${in_root[@]}" /exporter ARGS: runs ARGS in the root as the pod would: in its own
# mount and PID namespaces, the root bind-mounted read-only (the Deployment sets
# readOnlyRootFilesystem), a fresh /proc, as $uid. An array, not a function, so that
# `… &` makes $! the unshare process itself; sh and chroot exec, so the exporter is
# unshare's only child. The mounts live in the namespace and vanish with it.
# shellcheck disable=SC2016 # $0 and $@ belong to the inner sh.
in_root=(unshare --mount --pid --fork --kill-child sh -c '
  mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && mount -t proc proc "$0/proc" &&
  exec chroot --userspec='"$uid:$uid"' "$0" "$@"' "$root")

echo ">> assembling the runtime root in $root"
install -m 0755 "$exporter" "$root/exporter"
# ldd lines: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and, for the loader,
# "/lib64/ld-linux-x86-64.so.2 (0x…)"; linux-vdso has no file. Copy each file's
# content (cp -L) to the path the binary asks for.
mapfile -t libs < <(ldd "$exporter" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
((${#libs[@]} > 0)) || fail "ldd lists no libraries for $exporter: is it a Bun binary?"
for lib in "${libs[@]}"; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
  step "lib $lib"
done
mkdir -p "$root/etc" "$root/proc" "$root/tmp" "$root/home/nonroot"
chmod 1777 "$root/tmp"
chown $uid:$uid "$root/home/nonroot"
# The same entries as distroless' /etc/passwd and /etc/group for root and nonroot.
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n' $uid $uid >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:%d:\n' $uid >"$root/etc/group"

# The root runs on this host's glibc; the image has Debian 12's (2.36). Every
# GLIBC_x.y the binary names must be at most that.
glibc_max=$(grep -ao 'GLIBC_2\.[0-9]*' "$exporter" | sort -uV | tail -1)
[[ -n $glibc_max ]] || fail "found no GLIBC_ symbol version in $exporter"
[[ $(printf '%s\n' "$glibc_max" GLIBC_2.36 | sort -V | tail -1) == GLIBC_2.36 ]] ||
  fail "$exporter needs $glibc_max, newer than Debian 12's glibc 2.36"
step "highest glibc symbol version needed: $glibc_max (Debian 12 has 2.36)"

bin_bytes=$(stat -c %s "$root/exporter")
root_bytes=$(du -sb "$root" | cut -f1)
gz_bytes=$(tar -C "$root" -cf - . | gzip -6 | wc -c)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo ">> root payload: $(mib "$root_bytes") ($root_bytes bytes; binary $(mib "$bin_bytes"), libraries $(mib $((root_bytes - bin_bytes)))); gzip -6: $(mib "$gz_bytes")"

echo ">> checking that the root runs the binary"
out=$("${in_root[@]}" /exporter --version 2>&1) || fail "/exporter --version in the root: $out"
step "/exporter --version: $out"

port=${TEST_IMAGE_PORT:-}
if [[ -z $port ]]; then
  for _ in {1..20}; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break # nothing listens: free
  done
fi
base="http://127.0.0.1:$port"

echo ">> starting /exporter as $uid in the root on 127.0.0.1:$port"
"${in_root[@]}" /exporter --web.listen-address="127.0.0.1:$port" &
upid=$!

ready=""
for _ in {1..100}; do # 10 s at most
  kill -0 "$upid" 2>/dev/null || { wait "$upid" && rc=0 || rc=$?; upid=""; fail "the exporter exited with $rc before it was ready"; }
  if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$base/-/ready") == 200 ]]; then ready=1; break; fi
  sleep 0.1
done
[[ -n $ready ]] || fail "/-/ready did not answer 200 within 10 s"

# unshare forks once; chroot execs the exporter, so it is unshare's only child.
epid=$(pgrep -P "$upid") || fail "found no child of unshare ($upid)"
euid=$(awk '/^Uid:/ { print $2 }' "/proc/$epid/status")
ename=$(tr '\0' ' ' <"/proc/$epid/cmdline")
[[ $euid == "$uid" ]] || fail "the exporter (pid $epid) runs as uid $euid, want $uid"
nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$epid/status")
[[ $nspid == 1 ]] || fail "the exporter is pid $nspid in its namespace, want 1"
rootopts=$(awk '$5 == "/" { print $6 }' "/proc/$epid/mountinfo")
[[ ,$rootopts, == *,ro,* ]] || fail "the exporter's / is mounted $rootopts, want ro"
step "pid $epid (1 in its namespace), uid $euid, / mounted $rootopts: $ename"

for path in /-/healthy /-/ready; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base$path")
  [[ $code == 200 ]] || fail "GET $path: got status $code, want 200"
  step "GET $path: 200"
done
metrics=$(curl -sf --max-time 5 "$base/metrics") || fail "GET /metrics failed"
grep -qx 'foo_metric 1' <<<"$metrics" || fail "GET /metrics: no line 'foo_metric 1' in:
$metrics"
step "GET /metrics: $(grep -c . <<<"$metrics") lines, has 'foo_metric 1'"

"${in_root[@]}" /exporter --healthcheck --web.listen-address="127.0.0.1:$port" && rc=0 || rc=$?
[[ $rc == 0 ]] || fail "/exporter --healthcheck: got exit $rc while the exporter is up, want 0"
step "/exporter --healthcheck (exporter up): exit 0"

echo ">> SIGTERM to pid $epid"
t0=$(now_ms)
kill -TERM "$epid"
for _ in {1..40}; do # 50 ms steps: a bit over 2 s to measure an overrun, not wait forever
  kill -0 "$upid" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$upid" 2>/dev/null; then
  fail "the exporter did not exit within $(($(now_ms) - t0)) ms of SIGTERM"
fi
# --kill-child makes unshare exit with its child's status: the exporter's exit code.
wait "$upid" && rc=0 || rc=$?
upid=""
took=$(($(now_ms) - t0))
((took <= stop_within_ms)) || fail "the exporter took $took ms to exit after SIGTERM, want <= $stop_within_ms ms"
[[ $rc == 0 ]] || fail "the exporter exited with $rc after SIGTERM, want 0"
step "exit 0 after $took ms"

"${in_root[@]}" /exporter --healthcheck --web.listen-address="127.0.0.1:$port" 2>/dev/null && rc=0 || rc=$?
[[ $rc == 1 ]] || fail "/exporter --healthcheck: got exit $rc with the exporter gone, want 1"
step "/exporter --healthcheck (exporter gone): exit 1"

echo ">> runtime root OK"
