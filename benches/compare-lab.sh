# Sourced by ab.sh and callgrind.sh: a lab in $WORK made from a compare.sh
# output directory ($SRC): its haproxy.cfg and nginx upstream config with
# their temporary paths moved to $WORK (and nginx's proxy config), a fresh hosts.map routing to blue,
# and PORT set to the frontend's port. The ports stay compare.sh's, so
# compare.sh must not run at the same time.
compare_lab() {
    local old
    old=$(grep -o '/tmp/sy-compare\.[A-Za-z0-9]*' "$SRC/haproxy.cfg" | head -1)
    mkdir -p "$WORK/tmp"
    echo "SIMPLE_SERVICE blue" >"$WORK/hosts.map"
    sed "s|$old|$WORK|g" "$SRC/haproxy.cfg" >"$WORK/haproxy.cfg"
    sed "s|$old|$WORK|g" "$SRC/nginx-upstream.conf" >"$WORK/upstream.conf"
    sed "s|$old|$WORK|g" "$SRC/nginx-proxy.conf" >"$WORK/nginx-proxy.conf"
    PORT=$(awk '/^frontend/{f=1} f && /bind/{split($2,a,":"); print a[2]; exit}' "$WORK/haproxy.cfg")
}
