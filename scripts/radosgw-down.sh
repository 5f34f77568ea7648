#!/bin/bash
# radosgw-down.sh DIR : stop the daemons radosgw-up.sh started (by recorded pid) and remove DIR.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || { echo "no such dir $1" >&2; exit 1; }
D=$(readlink -f "$1")
[ -f "$D/ceph.conf" ] || { echo "$D is not an radosgw-up.sh dir" >&2; exit 1; }
# pid still ours? running (zombies have an empty cmdline) and its command line names our ceph.conf
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$D/ceph.conf"; }
# one at a time: gateway, osd, mon (an OSD whose mon is gone waits 5 s for a shutdown ack)
for n in rgw.a osd.0 mon.a; do
  f="$D/run/$n.pid"; [ -f "$f" ] || continue
  p=$(cat "$f"); ours "$p" || continue
  kill -TERM "$p" 2>/dev/null
  for i in $(seq 1 100); do ours "$p" || break; sleep 0.05; done   # up to 5 s
  if ours "$p"; then kill -KILL "$p" 2>/dev/null; for i in $(seq 1 100); do ours "$p" || break; sleep 0.05; done; fi
  ours "$p" && echo "rgw-down: $n (pid $p) did not exit" >&2
done
rm -rf -- "$D"
