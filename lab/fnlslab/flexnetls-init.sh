#!/bin/sh
### BEGIN INIT INFO
# Provides:          flexnetls-@PRODUCER@
# Required-Start:    $remote_fs $network $syslog
# Required-Stop:     $remote_fs $network $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: FlexNet Embedded license server (@PRODUCER@)
# Description:       FlexNet Embedded local license server for producer @PRODUCER@.
#                    Local settings: /etc/default/flexnetls-@PRODUCER@ (dialect a)
#                    or /opt/flexnetls/@PRODUCER@/local-configuration.yaml (dialect b)
### END INIT INFO

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PRODUCER=@PRODUCER@
NAME=flexnetls-$PRODUCER
PROGDIR=/opt/flexnetls/$PRODUCER
DATADIR=/var/opt/flexnetls/$PRODUCER
SETTINGS=/etc/default/$NAME
LOCALCONF=$PROGDIR/local-configuration.yaml
PIDFILE=/run/$NAME.pid
PYTHON=/usr/bin/python3
PROGRAM=$PROGDIR/flexnetls.py
SERVICE_USER=flexnetls

[ -r "$PROGRAM" ] || { echo "$NAME: $PROGRAM not found" >&2; exit 5; }
[ -x "$PYTHON" ] || { echo "$NAME: $PYTHON not found" >&2; exit 5; }

is_running() {
    start-stop-daemon --status --pidfile "$PIDFILE" --exec "$PYTHON"
}

do_start() {
    if is_running; then
        echo "$NAME is already running"
        return 0
    fi
    mkdir -p "$DATADIR/logs"
    CHUID=""
    if id "$SERVICE_USER" >/dev/null 2>&1; then
        CHUID="--chuid $SERVICE_USER"
        chown -R "$SERVICE_USER" "$DATADIR"
        if [ -f "$PROGDIR/producer-settings.xml" ]; then
            chgrp "$(id -gn "$SERVICE_USER")" "$PROGDIR/producer-settings.xml"
        fi
    fi
    echo "Starting $NAME"
    # shellcheck disable=SC2086
    start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" \
        $CHUID --exec "$PYTHON" -- "$PROGRAM" --producer "$PRODUCER" \
        --program-dir "$PROGDIR" --settings "$SETTINGS" --local-configuration "$LOCALCONF" \
        --data-dir "$DATADIR"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "$NAME failed to start (start-stop-daemon exit $rc)" >&2
        return 1
    fi
    # a start-up error (bad settings, wrong ACTIVE_HOSTID) ends the process at once
    for _ in 1 2 3 4 5; do
        sleep 0.2
        if ! is_running; then
            rm -f "$PIDFILE"
            echo "$NAME exited during start-up; see $DATADIR/logs/flexnetls.log" >&2
            return 1
        fi
    done
    return 0
}

do_stop() {
    echo "Stopping $NAME"
    start-stop-daemon --stop --quiet --retry TERM/5/KILL/2 --pidfile "$PIDFILE" --exec "$PYTHON"
    rc=$?
    case $rc in
        0|1) rm -f "$PIDFILE"; return 0 ;;
        *) echo "$NAME did not stop" >&2; return 1 ;;
    esac
}

do_status() {
    is_running
    rc=$?
    case $rc in
        0) echo "$NAME is running (pid $(cat "$PIDFILE" 2>/dev/null))"; return 0 ;;
        1) echo "$NAME is not running, but $PIDFILE exists"; return 1 ;;
        3) echo "$NAME is not running"; return 3 ;;
        *) echo "$NAME: cannot determine the status"; return 4 ;;
    esac
}

case "$1" in
    start)
        do_start
        ;;
    stop)
        do_stop
        ;;
    restart|force-reload)
        do_stop || exit 1
        do_start
        ;;
    status)
        do_status
        ;;
    *)
        echo "Usage: /etc/init.d/$NAME {start|stop|restart|force-reload|status}" >&2
        exit 2
        ;;
esac
exit $?
