<#--
  The one root shell script a machine runs after login (org.workshopfleet.provision.MachineSession): wait for
  cloud-init's result file and print it between frames, read the answer line and the bundle's tar from stdin, check
  and unpack it under a per-machine lock, run the setup steps, print the observed ebpf_exporter hash.
  SessionTranscript reads its output.
  Frames are lines "$N <kind> …": the nonce is never followed by a space in this text, so no echo of the script
  (not even a ps listing) forges a frame. Every value is a shell word made by q() (single-quoted); numbers are
  rendered by the model. No secret is ever in here: the bundle travels on stdin and is never echoed.
  Shell built-ins where a program would do the same: every fork and exec is CPU a shared lab host pays per machine.
-->
N=${q("@@wf-" + nonce)}
n=0; while [ ! -s ${q(layout.cloudInitResult)} ]; do
  if [ "$n" -ge ${polls} ]; then echo "$N cloudinit-timeout"; exit 0; fi; sleep 0.5; n=$((n+1))
done
echo "$N cloudinit-begin"
<#-- Printed with built-ins (a few hundred bytes), the last line even without its newline. -->
while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; l=; done < ${q(layout.cloudInitResult)}
echo "$N cloudinit-end"
<#-- One line of answer; sh's read takes it byte by byte, so the tar behind it stays on stdin. -->
IFS= read -r answer || answer=
case "$answer" in
  'bundle '*) ;;
  tail) echo "$N tail-begin"; tail -n ${tailLines} ${q(layout.cloudInitLog)} 2>&1; echo "$N tail-end"; exit 0 ;;
  *) exit 0 ;;
esac
r=${q(layout.bundleRoot)}; s="$r.new"; d=${q(layout.markersDir)}
<#-- Splits "bundle <bytes> <token>" into $1 $2 $3 on purpose. -->
# shellcheck disable=SC2086
set -- $answer
<#-- One session at a time per machine from here through the last step. A session whose connection dropped goes on
  running on the machine (without a terminal nothing signals it: it ends at a write once sshd has closed its output,
  and sshd does so only when it notices the connection is gone), and a re-run's session would otherwise unpack over
  its root and run the same steps beside it. The lock is flock(1)'s on fd 9, opened by this shell (command: a failed
  redirection must not end the shell before it says why): the kernel drops it when the shell ends, however it ends,
  so it is never stale; no child keeps fd 9 (9>&- on tar and the steps), so neither does a daemon a step leaves
  running. flock is the one program this costs, two when the lock is taken. Busy is exit 1 (the wait timed out);
  anything else is a failure of flock itself. The lock file lies beside the bundle root, in a folder that exists
  (the root's parent): taking the lock needs no mkdir first. Each program in this serial path, from the login to the
  first step, costs every machine a turn in the run queue thirty machines share on a lab host. -->
if ! command exec 9>>${q(layout.sessionLock)}; then echo "$N unpackfailed lock"; exit 0; fi
flock -n 9; rc=$?
if [ $rc -eq 1 ]; then
  echo "$N waiting ${lockWait}"
  flock -w ${lockWait} 9; rc=$?
  if [ $rc -eq 1 ]; then echo "$N busy ${lockWait}"; exit 0; fi
fi
if [ $rc -ne 0 ]; then echo "$N unpackfailed flock-$rc"; exit 0; fi
<#-- Leftovers of an interrupted earlier run only, since no other session runs now (earlier versions also left the tar
  beside it); test is a built-in, rm a program. -->
if [ -e "$s" ] || [ -e "$s.tar" ]; then rm -rf "$s" "$s.tar"; fi
<#-- A machine's first bundle unpacks into the root itself (nothing to keep, no mv); a later one into a fresh folder
  that replaces the old root only once whole. The markers folder is made in the same mkdir: if it could not be, the
  marker write below fails and says so. -->
if [ -e "$r" ]; then u="$s"; else u="$r"; fi
mkdir -p "$u" "$d" 2>/dev/null
[ -d "$u" ] || { echo "$N unpackfailed mkdir"; exit 0; }
<#-- Unpacked straight from stdin: no copy on disk and no checksum program. A connection cut inside a member makes tar
  fail; one cut between members loses the last member, which holds this transfer's token. -->
tar -x --no-same-owner -f - -C "$u" 9>&-; rc=$?
if [ $rc -ne 0 ]; then rm -rf "$u"; echo "$N unpackfailed $rc"; exit 0; fi
got=; { IFS= read -r got < "$u/"${q(transferMark)}; } 2>/dev/null
if [ "$got" != "$3" ]; then rm -rf "$u"; echo "$N torn"; exit 0; fi
if [ "$u" = "$s" ] && ! { rm -rf "$r" && mv "$s" "$r"; }; then echo "$N unpackfailed swap"; exit 0; fi
echo "$N unpacked"
<#-- $1 step name, $2 script path relative to the bundle root, $3 content hash. -->
step() {
  m=; { IFS= read -r m < "$d/$1"; } 2>/dev/null
  if [ "$m" = "$3" ]; then echo "$N skip $1"; return 0; fi
  echo "$N begin $1"
<#-- stdin: tar may stop reading at the archive's end blocks; a step never sees what is left of the transfer. -->
  BUNDLE_DIR="$r" STATE_DIR=${q(layout.stateRoot)} bash "$r/$2" < /dev/null 9>&-; rc=$?
  if [ $rc -eq 0 ]; then
    if ! { printf '%s\n' "$3" > "$d/$1"; } 2>/dev/null; then echo "$N nomarker $1"; rc=${markerFailed}; fi
  fi
<#-- A leading newline would put an empty line in the log; the parser finds a frame anywhere in a line. -->
  echo "$N end $1 $rc"
  return $rc
}
<#list steps as s>
step ${q(s.name)} ${q(s.script)} ${q(s.hash)} || exit 0
</#list>
<#if observedFile??>
<#-- The first word of the first non-blank line, read with built-ins. -->
h=; if [ -r ${q(observedFile)} ]; then while read -r h _ || [ -n "$h" ]; do [ -n "$h" ] && break; done < ${q(observedFile)}; fi
echo "$N observed $h"
</#if>
