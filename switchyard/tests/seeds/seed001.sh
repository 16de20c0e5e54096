#!/bin/bash
# Seed 001's "very graceful deploy" (a rolling deploy relying on retries): its deploy.sh
# unchanged, against seed 000's config with the map key STATIC (seed 001 does not print
# its config), upstreams that answer 503 for a grace period after SIGTERM
# (switchyard-echo --sigterm-503, the seed's "return 503 for incoming request"), and
# `hey -n … -c 200 -t 100 http://localhost:8785/cms` as in the seed.
#
# deploy.sh only *says* when to deploy ("deploying new version to green", "ready to deploy
# blue (update new version)"); the driver plays the operator and recreates that colour when
# the line appears, while the script goes on (so traffic may be forwarded to a colour that
# is restarting: the proxy's retries must hide it). Run by switchyard/tests/seed_001.rs
# inside fresh namespaces (see lib.sh).
set -u
source "$(dirname "$0")/lib.sh"
require_fresh_netns
trap cleanup EXIT

export SEED_STATE=$WORK/state
export ECHO_ARGS=${ECHO_ARGS:---sigterm-503 --grace-ms 1000}
mkdir -p "$SEED_STATE"
install_haproxy_shim

mount -t tmpfs tmpfs /home
mkdir -p /home/dong/code/learn-haproxy
cd /home/dong/code/learn-haproxy
cp "$SEEDS_DIR/seed001/haproxy.cfg" "$SEEDS_DIR/seed001/deploy.sh" .
echo "STATIC blue" >hosts.map

start_testdns
ok dns "127.0.0.53:53 answers ${TESTDNS_RECORDS:-localhost=127.0.0.1}"

# "docker-compose up -d" (both colours), then the proxy.
docker compose up -d blue >/dev/null || { fail blue "cannot start blue"; exit 1; }
docker compose up -d green >/dev/null || { fail green "cannot start green"; exit 1; }
haproxy -W -f haproxy.cfg -p haproxy.pid >"$WORK/proxy.log" 2>&1 &
track $!
if ! wait_until 20 tcp_open 127.0.0.1 9000; then
    fail proxy-start "stats socket 127.0.0.1:9000 not listening"
    exit 1
fi
check_resolver_used
for colour in blue green; do
    if wait_until 20 is_up_9000 $colour; then
        ok $colour-up "$colour passed its checks"
    else
        fail $colour-up "$colour is '$(status_9000 $colour)' after 20 s"
        exit 1
    fi
done
check_served initial http://localhost:8785/cms "blue v1"

start_hey -n "${HEY_N:-200000}" -c "${HEY_C:-200}" -t 100 http://localhost:8785/cms
sleep 1

log "./deploy.sh"
mkfifo "$WORK/deploy.out"
./deploy.sh >"$WORK/deploy.out" 2>&1 &
DEPLOY_PID=$!
track $DEPLOY_PID
DEPLOY_OUT=""
while IFS= read -r line; do
    echo "  deploy.sh| $line"
    DEPLOY_OUT+="$line"$'\n'
    case $line in
        "deploying new version to green")
            log "operator: docker compose up -d --build --force-recreate green"
            docker compose up -d --build --force-recreate green | sed 's/^/  docker| /'
            ;;
        "ready to deploy blue (update new version)")
            log "operator: docker compose up -d --build --force-recreate blue"
            docker compose up -d --build --force-recreate blue | sed 's/^/  docker| /'
            ;;
    esac
done <"$WORK/deploy.out"
wait $DEPLOY_PID
deploy_status=$?
[[ $deploy_status -eq 0 ]] && grep -q '^done$' <<<"$DEPLOY_OUT" &&
    ok deploy "deploy.sh ran to 'done'" || fail deploy "deploy.sh exit $deploy_status"
grep -q '^current connection on blue: 0$' <<<"$DEPLOY_OUT" &&
    ok readyToDown-blue "blue drained to 0" || fail readyToDown-blue "no 0 for blue"
grep -q '^current connection on green: 0$' <<<"$DEPLOY_OUT" &&
    ok readyToDown-green "green drained to 0" || fail readyToDown-green "no 0 for green"
check_served after-deploy http://localhost:8785/cms "blue v4"

finish_hey "${HEY_GRACE:-5}"
log "hey finished"
echo "show stat" | socat stdio tcp4-connect:127.0.0.1:9000 >"$WORK/show-stat.csv"
echo "FAILURES=$FAILURES"
exit $((FAILURES > 0))
