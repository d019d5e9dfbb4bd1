#!/usr/bin/env bash
# 06-attendee: the attendee's sources and exercises in ~ubuntu, owned by ubuntu: the ebpf_exporter fork with the PHP
# example on its branch, the bpftrace exercises (bt/) and a copy of the sample pages (php/).
# The branch's examples/Makefile includes ../Makefile.libbpf, whose rule for libbpf/dest/usr/lib/libbpf.so.1.4.2
# git-clones libbpf v1.4.2 from GitHub on the attendee's first make. This step builds that file here instead, from
# GitHub's source archive of the tag checked against LIBBPF_SHA256, so make finds it done and needs no network.
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

# What Makefile.libbpf's $(LIBBPF_PATH) rule would produce (same directory, same make invocation), from a verified
# archive: fetch_verified discards a download that does not match the pin, so nothing unverified is unpacked or built.
libbpf_version=1.4.2
libbpf_url=$RELEASE_BASE/libbpf/libbpf/archive/refs/tags/v$libbpf_version.tar.gz
libbpf_cache=/var/cache/workshop-fleet/libbpf-v$libbpf_version.tar.gz
libbpf_dir=$repo/libbpf
libbpf_marker=$libbpf_dir/.workshop-fleet-source.sha256
libbpf_lib=$libbpf_dir/dest/usr/lib/libbpf.so.$libbpf_version
libbpf_pin=${LIBBPF_SHA256:-}
if [[ -n $libbpf_pin && -f $libbpf_lib && $(cat "$libbpf_marker" 2>/dev/null) == "${libbpf_pin,,}" ]]; then
  log "libbpf $libbpf_version already built in $libbpf_dir"
else
  fetch_verified "$libbpf_url" "$libbpf_cache" "$libbpf_pin" 0644
  log "building libbpf $libbpf_version into $libbpf_dir/dest"
  rm -rf "$libbpf_dir"
  as_user mkdir -p "$libbpf_dir"
  as_user tar -xzf "$libbpf_cache" -C "$libbpf_dir" --strip-components=1 --no-same-owner
  as_user make -C "$libbpf_dir/src" LIBSUBDIR=lib DESTDIR="$libbpf_dir/dest" install install_uapi_headers >/dev/null ||
    die "building libbpf $libbpf_version in $libbpf_dir/src failed (errors above)"
  [[ -f $libbpf_lib ]] || die "the libbpf build did not produce $libbpf_lib: is $libbpf_url libbpf $libbpf_version?"
  as_user tee "$libbpf_marker" >/dev/null <<<"${libbpf_pin,,}"
fi

for dir in bt php; do
  while IFS= read -r -d '' f; do
    rel=${f#"$BUNDLE_DIR/"}
    install_file "$f" "$home/$rel" 0644 "$user:$group"
  done < <(find "$BUNDLE_DIR/$dir" -type f -print0 | sort -z)
  chown "$user:$group" "$home/$dir"
done
find "$home/php" -type d -exec chown "$user:$group" {} +
log "attendee material ready in $home"
