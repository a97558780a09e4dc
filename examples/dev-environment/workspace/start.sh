#!/bin/sh
# hooks first, so /ready can report when the IDE answers.
node /opt/workspace/hooks.js &
exec runuser -u developer -- code-server --bind-addr "0.0.0.0:${CODE_SERVER_PORT}" --auth none /home/developer
