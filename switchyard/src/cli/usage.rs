//! The usage text, shaped like HAProxy's so muscle memory carries over.

/// Printed on stderr (after the banner on stdout) for a bad command line.
pub fn usage_text(progname: &str) -> String {
    format!(
        "Usage : {progname} [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode.
        -Ws master-worker mode with systemd notify support.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -n sets the maximum total # of connections
        -N sets the default, per-proxy maximum # of connections (0)
        -p writes pids of all children to this file
        -dr ignores server address resolution failures
        -dW fails if any warning is emitted
        -sf/-st [pid ]* finishes/terminates old pids.
        -x <unix_socket> get listening sockets from a unix socket
        -S <bind>[,<bind options>...] new master CLI
   {progname} demo   starts a local blue/green demo (see README.md)
   {progname} ctl    deployment helper: status, cutover, rollback, drain (ctl --help)
"
    )
}
