#!/usr/bin/env bash
# The tests use the real PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) of this machine.
# Start them if they are installed but stopped; fail loudly (never skip) if they cannot run.
set -u

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432 && command -v pg_ctlcluster >/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | head -n1)
  [ -n "$version" ] && pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  sleep 2
fi
if ! port_open 6379 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --port 6379 --save "" >/dev/null || true
  sleep 1
fi

missing=0
port_open 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432 (tests need it)"; missing=1; }
port_open 6379 || { echo "Redis is not reachable on 127.0.0.1:6379 (tests need it)"; missing=1; }
exit $missing
