#!/bin/bash
# Adapted from the shared tested recipe (docs: docs/local.md, "A real S3 on loopback").
# radosgw-up.sh DIR PORT
# Throwaway one-node Ceph (1 mon, 1 memstore OSD, no mgr, auth=none, size 1)
# + radosgw (beast on 127.0.0.1:PORT) + S3 user test/testsecret.
# All state/logs/sockets under DIR; daemon pids in DIR/run/*.pid (see radosgw-down.sh).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR PORT" >&2; exit 2; }
PORT=$2; D=$1
PY=/usr/bin/python3
port_free() { $PY -c 'import socket,sys;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
port_free "$PORT" || { echo "rgw-up: port $PORT busy" >&2; exit 1; }
[ -e "$1/ceph.conf" ] && { echo "rgw-up: $1 already holds a cluster" >&2; exit 1; }
mkdir -p "$1"; D=$(readlink -f "$1")
mkdir -p "$D"/{mon.a,osd.0,rgw.a,run,log,crash}
# mon port: a free ephemeral port (outside the OSD's 6800-7300 range), so several clusters can coexist
MONPORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
FSID=$(cat /proc/sys/kernel/random/uuid)
cat >"$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MONPORT
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
# THE -13 FIX: radosgw compiles in defaults ms_mon_client_mode=secure (+auth_client_required=cephx,
# overridden above). With auth 'none' msgr2 permits only mode crc, so rgw's mon mode list comes
# out empty and MonConnection::get_auth_request returns -EACCES (-13) forever. Allow crc:
ms mon client mode = crc
ms bind msgr1 = false
ms bind ipv4 = true
ms bind ipv6 = false
public network = 127.0.0.0/8
keyring = $D/keyring
run dir = $D/run
crash dir = $D/crash
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
mon cluster log file = $D/log/cluster.\$channel.log
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
[client]
# radosgw starts while the OSD boots; ops queued before the OSD is up are only
# retried on the objecter tick (default 5 s) -> occasional +4..5 s startup stall
objecter tick interval = 0.5
[mon.a]
mon data = $D/mon.a
[osd.0]
osd data = $D/osd.0
osd journal = $D/osd.0/journal
osd objectstore = memstore
memstore device bytes = 2147483648
[client.rgw.a]
rgw data = $D/rgw.a
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw dns name = localhost
rgw thread pool size = 64
CONF
C=(-c "$D/ceph.conf")
CL=(timeout 30 ceph "${C[@]}" --connect-timeout 20)
# start a daemon in the foreground (-f), detached (own session), pid recorded exactly
start() { local n=$1; shift; setsid "$@" -f --setuser root --setgroup root </dev/null >>"$D/log/$n.out" 2>&1 & echo $! >"$D/run/$n.pid"; }
fail() { echo "rgw-up: $*; logs in $D/log; clean up with radosgw-down.sh $D" >&2; exit 1; }
trap 'echo "rgw-up: command failed at line $LINENO; logs in $D/log; clean up with radosgw-down.sh $D" >&2' ERR

monmaptool --create --clobber --fsid "$FSID" --addv a "[v2:127.0.0.1:$MONPORT]" "$D/monmap" >/dev/null
ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" --setuser root --setgroup root
start mon.a ceph-mon "${C[@]}" -i a
OSDUUID=$(cat /proc/sys/kernel/random/uuid)
OSDID=$("${CL[@]}" osd new "$OSDUUID") || fail "mon not reachable"
[ "$OSDID" = 0 ] || fail "unexpected osd id $OSDID"
ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSDUUID" --setuser root --setgroup root >"$D/log/osd.0.mkfs" 2>&1
start osd.0 ceph-osd "${C[@]}" -i 0
start rgw.a radosgw "${C[@]}" -n client.rgw.a
for i in $(seq 1 1200); do   # up to 120 s
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && break
  kill -0 "$(cat "$D/run/rgw.a.pid")" 2>/dev/null || fail "radosgw exited"
  sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || fail "radosgw did not answer"
radosgw-admin "${C[@]}" user create --uid=test --display-name=test \
  --access-key=test --secret-key=testsecret >"$D/log/user-create.json" 2>>"$D/log/user-create.err" || fail "user create failed"
echo "S3 endpoint http://127.0.0.1:$PORT (access key test, secret testsecret, region us-east-1, path-style)"
