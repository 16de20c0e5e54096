#!/bin/bash
# Seed 004 ("How to run a blue-green deployment cutover with HAProxy"), its 16 steps with
# the commands as printed, its haproxy.cfg unchanged (`bind :80`, /run/haproxy/admin.sock,
# /etc/haproxy/maps/bluegreen.map, servers on 10.10.10.11/12 and 10.10.20.11/12:8080).
#
# Inside fresh namespaces (see lib.sh) those addresses are put on an interface of the
# private network namespace (a dummy one, or lo where dummy links are unavailable), so the
# application servers (upstream.py) listen exactly there and nothing leaves the machine;
# /etc/haproxy and /run are private tmpfs mounts and /etc/hosts is bind-mounted with
# `127.0.0.1 www.example.com`. `sudo` and `systemctl reload haproxy` are shims (bin/), the
# proxy runs as Debian's unit does: `haproxy -Ws -f /etc/haproxy/haproxy.cfg -p
# /run/haproxy.pid`, first on the pre-release config (haproxy-before.cfg).
#
# Load: `hey -c 100 http://www.example.com/` twice: across the reload (steps 2-6, output
# hey-reload.txt) and across the cutover and rollback (steps 7-16, hey-cutover.txt).
set -u
source "$(dirname "$0")/lib.sh"
require_fresh_netns
trap cleanup EXIT
install_haproxy_shim

# The seed's backend addresses, inside this network namespace only.
if ip link add d0 type dummy 2>/dev/null; then
    dev=d0
else
    dev=lo
    log "dummy links unavailable here: backend addresses go on lo (same namespace)"
fi
for a in 10.10.10.11 10.10.10.12 10.10.20.11 10.10.20.12; do
    ip addr add "$a/32" dev "$dev"
done
ip link set "$dev" up

mount -t tmpfs tmpfs /etc/haproxy
mount -t tmpfs tmpfs /run
mkdir -p /run/haproxy # what haproxy.service's RuntimeDirectory=haproxy provides
cp /etc/hosts "$WORK/hosts"
echo "127.0.0.1 www.example.com" >>"$WORK/hosts"
mount --bind "$WORK/hosts" /etc/hosts

for spec in "10.10.10.11 blue" "10.10.10.12 blue" "10.10.20.11 green" "10.10.20.12 green"; do
    set -- $spec
    python3 "$SEEDS_DIR/seed004/upstream.py" "$1" 8080 "$2" >"$WORK/upstream-$1.log" 2>&1 &
    track $!
done
for a in 10.10.10.11 10.10.10.12 10.10.20.11 10.10.20.12; do
    wait_until 20 tcp_open "$a" 8080 || { fail upstreams "$a:8080 not listening"; exit 1; }
done
ok upstreams "blue on 10.10.10.11/12:8080, green on 10.10.20.11/12:8080"

PROXY_PID=""
start_service() {
    haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid >>"$WORK/proxy.log" 2>&1 &
    PROXY_PID=$!
    track "$PROXY_PID"
}
stop_service() {
    kill -TERM "$PROXY_PID" 2>/dev/null
    wait_until 10 bash -c "! kill -0 $PROXY_PID" || kill -KILL "$PROXY_PID"
    wait "$PROXY_PID" 2>/dev/null
}
stot() {
    echo "show stat" | socat stdio unix-connect:/run/haproxy/admin.sock | awk -F, -v b="$1" '$1==b && $2=="BACKEND" {print $8}'
}
# traffic_on <backend> <other>: under hey's load, <backend>'s session count grows and
# <other>'s does not (over 2 s).
traffic_on() {
    local b0 o0 b1 o1
    b0=$(stot "$1"); o0=$(stot "$2")
    sleep 2
    b1=$(stot "$1"); o1=$(stot "$2")
    echo "$1 stot $b0 -> $b1, $2 stot $o0 -> $o1"
    [[ -n $b0 && -n $b1 && -n $o0 && $b1 -gt $b0 && $o1 == "$o0" ]]
}
release_is() { [[ $(curl -s -m 5 http://www.example.com/release) == "version=$1" ]]; }

# The running production service before the release work.
cp "$SEEDS_DIR/seed004/haproxy-before.cfg" /etc/haproxy/haproxy.cfg
start_service
if wait_until 20 release_is blue; then
    ok service-running "pre-release config serves blue on :80"
else
    fail service-running "no 'version=blue' from http://www.example.com/release"
    exit 1
fi

HEY_OUT=hey-reload.txt start_hey -n "${HEY_N:-1000000}" -c "${HEY_C:-100}" http://www.example.com/
sleep 1

# 1. Install socat if the HAProxy host does not already have a Runtime API socket client.
if command -v socat >/dev/null || sudo apt install socat; then ok step01 "socat present"; else fail step01 "no socat"; fi

# 2. Create the map directory for release state.
sudo install -d -m 0755 /etc/haproxy/maps
[[ $(stat -c %a /etc/haproxy/maps) == 755 ]] && ok step02 || fail step02 "/etc/haproxy/maps missing or not 0755"

# 3. Create the release map with the current production backend.
cp "$SEEDS_DIR/seed004/bluegreen.map" /etc/haproxy/maps/bluegreen.map
[[ $(cat /etc/haproxy/maps/bluegreen.map) == "active backend_blue" ]] && ok step03 || fail step03 "map content"

# 4. Add the runtime socket, map-backed frontend rule, and both pools.
cp "$SEEDS_DIR/seed004/haproxy.cfg" /etc/haproxy/haproxy.cfg
ok step04

# 5. Validate the complete HAProxy configuration.
out=$(sudo haproxy -c -V -f /etc/haproxy/haproxy.cfg 2>&1)
echo "$out" | sed 's/^/  step05| /'
grep -q '^Configuration file is valid$' <<<"$out" && ok step05 "Configuration file is valid" || fail step05 "check failed"

# 6. Reload HAProxy to load the map file and runtime socket.
sudo systemctl reload haproxy
socket_answers() { echo "show map /etc/haproxy/maps/bluegreen.map" | socat stdio unix-connect:/run/haproxy/admin.sock | grep -q 'active backend_blue'; }
reloaded=false
if wait_until 10 socket_answers; then
    reloaded=true
    ok step06 "reloaded: /run/haproxy/admin.sock answers"
    sleep 3 # load on the new worker
else
    fail step06 "after 'systemctl reload haproxy' (SIGUSR2 to the -Ws master) /run/haproxy/admin.sock never answered within 10 s"
fi
finish_hey 5 hey-covered-reload

if [[ $reloaded == false ]]; then
    log "reload did not take effect: restarting the service (no load) to go on with steps 7-16"
    stop_service
    start_service
    if ! wait_until 20 socket_answers; then
        fail restart "even a restart gives no /run/haproxy/admin.sock"
        exit 1
    fi
fi

HEY_OUT=hey-cutover.txt start_hey -n "${HEY_N:-1000000}" -c "${HEY_C:-100}" http://www.example.com/
sleep 1

# 7. Confirm that HAProxy loaded the blue release map.
out=$(echo "show map /etc/haproxy/maps/bluegreen.map" | sudo socat stdio unix-connect:/run/haproxy/admin.sock)
echo "$out" | sed 's/^/  step07| /'
grep -Eq '^0x[0-9a-f]+ active backend_blue$' <<<"$(head -1 <<<"$out")" && ok step07 || fail step07 "unexpected show map output"

# 8. Confirm that the green backend passes HAProxy health checks before moving traffic
#    ("Do not cut over while a green server row is DOWN, MAINT, DRAIN, or still waiting
#    for the required rise count": wait for both rows UP, L7OK, 200).
green_ready() {
    echo "show stat backend_green 4 -1" | sudo socat stdio unix-connect:/run/haproxy/admin.sock |
        awk -F, '$1=="backend_green" && ($2=="green1" || $2=="green2") && $18=="UP" && $37=="L7OK" && $38=="200" {n++} END {exit !(n==2)}'
}
ready=false
wait_until 30 green_ready && ready=true
out=$(echo "show stat backend_green 4 -1" | sudo socat stdio unix-connect:/run/haproxy/admin.sock)
echo "$out" | cut -d, -f1-39 | sed 's/^/  step08| /'
[[ $ready == true ]] && ok step08 "green1 and green2 UP, L7OK, 200" || fail step08 "green rows not UP/L7OK/200 within 30 s"

# 9. Smoke test the current blue path through the public listener.
out=$(curl http://www.example.com/release 2>/dev/null)
[[ $out == version=blue ]] && ok step09 "$out" || fail step09 "got '$out'"

# 10. Move live traffic to the green backend through the Runtime API.
out=$(echo "set map /etc/haproxy/maps/bluegreen.map active backend_green" | sudo socat stdio unix-connect:/run/haproxy/admin.sock)
[[ -z ${out//[$'\n']/} ]] && ok step10 "no text" || fail step10 "set map said '$out'"

# 11. Confirm that the runtime map now points to green.
out=$(echo "show map /etc/haproxy/maps/bluegreen.map" | sudo socat stdio unix-connect:/run/haproxy/admin.sock)
echo "$out" | sed 's/^/  step11| /'
grep -Eq '^0x[0-9a-f]+ active backend_green$' <<<"$(head -1 <<<"$out")" && ok step11 || fail step11 "unexpected show map output"

# 12. Smoke test the green path through the same public listener.
out=$(curl http://www.example.com/release 2>/dev/null)
[[ $out == version=green ]] && ok step12 "$out" || fail step12 "got '$out'"
sleep 0.5 # requests sent before the switch finish
out=$(traffic_on backend_green backend_blue)
[[ $? -eq 0 ]] && ok step12-load "hey's traffic on green: $out" || fail step12-load "$out"

# 13. Persist the green cutover on disk after the smoke test passes.
echo "active backend_green" >/etc/haproxy/maps/bluegreen.map
ok step13

# 14. Roll back during the smoke window.
out=$(echo "set map /etc/haproxy/maps/bluegreen.map active backend_blue" | sudo socat stdio unix-connect:/run/haproxy/admin.sock)
[[ -z ${out//[$'\n']/} ]] && ok step14 "no text" || fail step14 "set map said '$out'"

# 15. Verify that rollback sends traffic back to blue.
out=$(curl http://www.example.com/release 2>/dev/null)
[[ $out == version=blue ]] && ok step15 "$out" || fail step15 "got '$out'"
sleep 0.5
out=$(traffic_on backend_blue backend_green)
[[ $? -eq 0 ]] && ok step15-load "hey's traffic on blue: $out" || fail step15-load "$out"

# 16. Persist the rollback on disk if blue remains the active release.
echo "active backend_blue" >/etc/haproxy/maps/bluegreen.map
ok step16

sleep 1
finish_hey 3 hey-covered-cutover
echo "FAILURES=$FAILURES"
exit $((FAILURES > 0))
