#!/bin/sh
# login.sh BIN RUN: the ssh-like login of the distro bed (run-draw.sh starts
# it with su -l mwuser, so it is a PAM session in session-cN.scope). Its
# "shell" (role login, 16 MiB in use) must survive every draw; in the ssh
# draws the user starts the culprit from it when RUN/ssh-go appears, so the
# culprit shares the session's scope with the login.
BIN=$1 RUN=$2
. "$(dirname "$0")/draw.env"
"$BIN/hog" --max 16M --rate max --retouch 2000 --name login > /dev/null 2>&1 &
while [ ! -e "$RUN/ssh-go" ]; do sleep 0.2; done
if [ "$KIND" = heap ]; then
    exec "$BIN/leaker" --start "${START_MB}M" --rate "${RATE_MB}M/s" --duration "${DEADLINE}s" \
        --name culprit > /dev/null 2>&1
fi
exec "$BIN/hog" --start "${START_MB}M" --rate "${RATE_MB}M/s" --duration "${DEADLINE}s" \
    --name culprit > /dev/null 2>&1
