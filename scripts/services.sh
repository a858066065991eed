#!/usr/bin/env bash
# The suite talks to PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) over real connections.
# On these machines both are started before a session; this starts either one that has stopped, and
# fails loudly when one cannot be reached, rather than letting its tests be skipped.
set -euo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 6379; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for i in $(seq 1 50); do up 5432 && up 6379 && exit 0; sleep 0.2; done
up 5432 || echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2
up 6379 || echo "Redis is not reachable on 127.0.0.1:6379" >&2
exit 1
