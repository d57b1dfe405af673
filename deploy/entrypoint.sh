#!/bin/sh
# Entrypoint of the scpool serve image: an unprivileged container sees
# /sys/fs/cgroup read-only; with SYS_ADMIN and a private cgroup namespace the
# remount shows only this container's own subtree (docs/deploy.md, "Docker").
set -e
mount -o remount,rw /sys/fs/cgroup
exec /usr/local/bin/scpool serve "$@"
