#!/usr/bin/env bash
# 06-attendee: the attendee's sources and exercises in ~ubuntu, owned by ubuntu: the ebpf_exporter fork with the PHP
# example on its branch, the bpftrace exercises (bt/) and a copy of the sample pages (php/).
# inputs: bt/ php/
# phase: image
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
setup_step

user=ubuntu
getent passwd "$user" >/dev/null || die "user $user does not exist: cloud-init creates it from the user data"
home=$(getent passwd "$user" | cut -d: -f6)
group=$(id -gn "$user")
as_user() { runuser -u "$user" -- env HOME="$home" "$@"; }

repo=$home/ebpf_exporter
if [[ ! -d $repo/.git ]]; then
  log "cloning $ATTENDEE_GIT_REMOTE ($ATTENDEE_GIT_BRANCH) into $repo"
  as_user git clone --quiet --branch "$ATTENDEE_GIT_BRANCH" "$ATTENDEE_GIT_REMOTE" "$repo"
elif [[ $(as_user git -C "$repo" rev-parse --abbrev-ref HEAD) != "$ATTENDEE_GIT_BRANCH" ]]; then
  # Only switch branches; never pull over an attendee's work.
  log "switching $repo to $ATTENDEE_GIT_BRANCH"
  as_user git -C "$repo" fetch --quiet origin "$ATTENDEE_GIT_BRANCH"
  as_user git -C "$repo" checkout --quiet -B "$ATTENDEE_GIT_BRANCH" FETCH_HEAD
fi
[[ -f $repo/examples/php.bpf.c ]] || log "warning: $repo has no examples/php.bpf.c (wrong branch or remote?)"

for dir in bt php; do
  while IFS= read -r -d '' f; do
    rel=${f#"$BUNDLE_DIR/"}
    install_file "$f" "$home/$rel" 0644 "$user:$group"
  done < <(find "$BUNDLE_DIR/$dir" -type f -print0 | sort -z)
  chown "$user:$group" "$home/$dir"
done
find "$home/php" -type d -exec chown "$user:$group" {} +
log "attendee material ready in $home"
