#!/usr/bin/env bash
# private-sshd.sh - an sshd of its own on 127.0.0.1, for running harness/rect-cluster.sh over real
# ssh without reading or changing the machine's ssh setup (its own config, throwaway host and
# client keys). Used by tests/cluster.bats and harness/cluster-measure.sh. Needs root.
#
#   harness/private-sshd.sh start DIR [--no-rc]   keys, configs and a running sshd in DIR/ssh
#   harness/private-sshd.sh stop DIR              its open sessions and the listener killed
#
# After start, DIR/ssh/ssh is an ssh that knows four logins to this same machine as root:
#   login-a, login-b  sessions start root's login shell as any ssh session does (bash reads
#                     ~/.bashrc), or with --no-rc send SHLVL=1 so that bash skips it
#   login-norc        always sends SHLVL=1: a session whose shell starts in milliseconds
#   login-dead        a port on 127.0.0.1 that nothing listens on
# sshd runs in the foreground of a background job (-D), its pid in DIR/ssh/sshd.pid, its log in
# DIR/ssh/sshd.log. start returns once a login works; otherwise it says why (exit 1).
set -euo pipefail

usage() { echo "usage: private-sshd.sh start DIR [--no-rc] | stop DIR" >&2; exit 2; }

# a port on 127.0.0.1 that nothing listens on (bash's /dev/tcp: no other tool needed)
closed_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}

write_sshd_config() {   # write_sshd_config SSHDIR PORT
    cat >"$1/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $2
HostKey $1/host_key
PidFile $1/sshd.pid
AuthorizedKeysFile $1/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100
MaxSessions 100
AcceptEnv SHLVL
CONF
}

write_ssh_config() {   # write_ssh_config SSHDIR PORT CLOSED_PORT NO_RC_LOGINS
    cat >"$1/config" <<CONF
Host login-a login-b login-norc login-dead
    HostName 127.0.0.1
    User root
    IdentityFile $1/client_key
    IdentitiesOnly yes
    UserKnownHostsFile $1/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking accept-new
    BatchMode yes
    ConnectTimeout 20
    ControlMaster no
    ControlPath none
    LogLevel ERROR
Host login-a login-b login-norc
    Port $2
Host login-dead
    Port $3
# bash reads ~/.bashrc for a session sshd starts unless SHLVL says it is not the first shell
Host $4
    SetEnv SHLVL=1
CONF
}

start() {   # start DIR [--no-rc]
    local ssh=$1/ssh no_rc=login-norc port closed pid
    [ "${2:-}" != --no-rc ] || no_rc="login-a login-b login-norc"
    [ "$(id -u)" = 0 ] || { echo "needs root to run a private sshd" >&2; exit 1; }
    # sshd refuses to start without its privilege separation directory (the service's start
    # makes it). It stays: an empty directory, and another private sshd may be using it.
    mkdir -p /run/sshd "$ssh"
    chmod 700 "$ssh"
    ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_key" </dev/null
    ssh-keygen -q -t ed25519 -N '' -f "$ssh/client_key" </dev/null
    cp "$ssh/client_key.pub" "$ssh/authorized_keys"
    printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$ssh/config" >"$ssh/ssh"
    chmod +x "$ssh/ssh"
    closed=$(closed_port)
    # A free port can be taken between the look and the bind: then try another.
    for _ in $(seq 10); do
        port=$(closed_port)
        [ "$port" != "$closed" ] || continue
        write_sshd_config "$ssh" "$port"
        write_ssh_config "$ssh" "$port" "$closed" "$no_rc"
        /usr/sbin/sshd -D -f "$ssh/sshd_config" -E "$ssh/sshd.log" </dev/null >/dev/null 2>&1 3>&- &
        pid=$!
        echo "$pid" >"$ssh/sshd.pid"
        for _ in $(seq 150); do
            timeout 30 "$ssh/ssh" login-a true </dev/null >/dev/null 2>&1 3>&- && return 0
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "sshd did not start or a login to it failed: $(tail -1 "$ssh/sshd.log" 2>/dev/null)" >&2
    exit 1
}

stop() {   # stop DIR
    local pid
    [ -f "$1/ssh/sshd.pid" ] || return 0
    pid=$(cat "$1/ssh/sshd.pid")
    # any session it started that is still open, then the listener
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    rm -f "$1/ssh/sshd.pid"
}

case "${1:-}" in
    start) [ $# -ge 2 ] && [ $# -le 3 ] || usage; start "$2" "${3:-}" ;;
    stop) [ $# = 2 ] || usage; stop "$2" ;;
    *) usage ;;
esac
