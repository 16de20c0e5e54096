#!/bin/bash
# Seed 000 end to end: the article's haproxy.cfg and deploy script, unchanged, with the
# article's commands: `haproxy -W -f haproxy.cfg -p haproxy.pid`, `hey -n 100000 -c 100
# http://localhost:8785/`, then `./deploy release`, `./deploy rollback`, `./deploy release`,
# `./deploy done`. Run by switchyard/tests/seed_000.rs inside fresh namespaces (see lib.sh).
set -u
source "$(dirname "$0")/lib.sh"
require_fresh_netns
trap cleanup EXIT

export SEED_STATE=$WORK/state
mkdir -p "$SEED_STATE"
install_haproxy_shim

# The article's working directory, on a tmpfs private to this mount namespace.
mount -t tmpfs tmpfs /home
mkdir -p /home/dong/code/learn-haproxy
cd /home/dong/code/learn-haproxy
cp "$SEEDS_DIR/seed000/haproxy.cfg" "$SEEDS_DIR/seed000/deploy" .
echo "SIMPLE_SERVICE blue" >hosts.map

start_testdns
ok dns "127.0.0.53:53 answers ${TESTDNS_RECORDS:-localhost=127.0.0.1}"

# "Start haproxy process, blue container, stop green container."
docker compose up -d blue >/dev/null || { fail blue "cannot start blue"; exit 1; }
haproxy -W -f haproxy.cfg -p haproxy.pid >"$WORK/proxy.log" 2>&1 &
track $!
if ! wait_until 20 tcp_open 127.0.0.1 9000; then
    fail proxy-start "stats socket 127.0.0.1:9000 not listening"
    exit 1
fi
check_resolver_used
if wait_until 20 is_up_9000 blue; then
    ok blue-up "blue resolved through resolvers local and passed its checks"
else
    fail blue-up "blue is '$(status_9000 blue)' after 20 s"
    exit 1
fi
check_served initial http://localhost:8785/ "blue v1"

HEY_N=${HEY_N:-100000}
HEY_C=${HEY_C:-100}
start_hey -n "$HEY_N" -c "$HEY_C" http://localhost:8785/
sleep 1

run_deploy() {
    local out
    log "./deploy $1"
    out=$(./deploy "$1" 2>&1)
    echo "$out" | sed "s/^/  deploy $1| /"
    DEPLOY_OUT=$out
}

# 1. release: green comes up with a new version and takes the traffic.
run_deploy release
grep -q '^green is UP$' <<<"$DEPLOY_OUT" && ok release-waitItUp "waitItUp saw green UP" ||
    fail release-waitItUp "no 'green is UP' line"
check_served release-forwardTo http://localhost:8785/ "green v2"

# 2. rollback: traffic back to blue, green drained to 0 connections, then stopped.
run_deploy rollback
check_served rollback-forwardTo http://localhost:8785/ "blue v1"
grep -q '^current connection on green: 0$' <<<"$DEPLOY_OUT" && grep -q '^Shutdown server: green$' <<<"$DEPLOY_OUT" &&
    ok rollback-readyToDown "readyToDown green reached 0" ||
    fail rollback-readyToDown "readyToDown green never printed 0"
[[ ! -f $SEED_STATE/green.pid ]] && ok rollback-stop "green stopped" || fail rollback-stop "green still running"

# 3. release again, then 4. done: blue redeployed with the new version, traffic back to
# blue, green drained and stopped.
run_deploy release
grep -q '^green is UP$' <<<"$DEPLOY_OUT" && ok release2-waitItUp "waitItUp saw green UP" ||
    fail release2-waitItUp "no 'green is UP' line"
check_served release2-forwardTo http://localhost:8785/ "green v3"

run_deploy done
grep -q '^blue is UP$' <<<"$DEPLOY_OUT" && ok done-waitItUp "waitItUp saw blue UP" ||
    fail done-waitItUp "no 'blue is UP' line"
check_served done-forwardTo http://localhost:8785/ "blue v4"
grep -q '^current connection on green: 0$' <<<"$DEPLOY_OUT" && grep -q '^Shutdown server: green$' <<<"$DEPLOY_OUT" &&
    ok done-readyToDown "readyToDown green reached 0" ||
    fail done-readyToDown "readyToDown green never printed 0"
[[ ! -f $SEED_STATE/green.pid ]] && ok done-stop "green stopped" || fail done-stop "green still running"

finish_hey "${HEY_GRACE:-60}"
log "hey finished"
echo "show stat" | socat stdio tcp4-connect:127.0.0.1:9000 >"$WORK/show-stat.csv"
echo "FAILURES=$FAILURES"
exit $((FAILURES > 0))
