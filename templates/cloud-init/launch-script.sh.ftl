<#import "/templates/cloud-init/expiry.ftl" as expiry>
#!/bin/bash
# ${machineName}: attendee ${attendee} of workshop ${workshop}, expires ${expiresAtIso}
# Lightsail launch script: Lightsail runs user data as shell, not cloud-config, so this does by hand what the
# cloud-config does on EC2: pinned host key, ubuntu's authorized key and sudo, hostname, the expiry timer.
set -euo pipefail
umask 022

# Pinned host key: the orchestrator verifies exactly this key; other host key types are removed so no client
# negotiates one it cannot verify.
rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
install -m 0600 /dev/null /etc/ssh/ssh_host_ed25519_key
cat > /etc/ssh/ssh_host_ed25519_key <<'WORKSHOP_FLEET_KEY'
${hostKeyPrivate?trim}
WORKSHOP_FLEET_KEY
printf '%s\n' '${hostKeyPublic}' > /etc/ssh/ssh_host_ed25519_key.pub
chmod 0644 /etc/ssh/ssh_host_ed25519_key.pub

id ubuntu >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ubuntu
home=$(getent passwd ubuntu | cut -d: -f6)
install -d -m 0700 -o ubuntu -g ubuntu "$home/.ssh"
touch "$home/.ssh/authorized_keys"
grep -qxF '${loginPublicKey}' "$home/.ssh/authorized_keys" \
  || printf '%s\n' '${loginPublicKey}' >> "$home/.ssh/authorized_keys"
chown ubuntu:ubuntu "$home/.ssh/authorized_keys"
chmod 0600 "$home/.ssh/authorized_keys"
printf '%s\n' 'ubuntu ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-workshop-fleet
chmod 0440 /etc/sudoers.d/90-workshop-fleet
visudo -cf /etc/sudoers.d/90-workshop-fleet >/dev/null

hostnamectl set-hostname '${hostname}'

cat > ${expiry.timerPath} <<'WORKSHOP_FLEET_UNIT'
<@expiry.timer/>
WORKSHOP_FLEET_UNIT
cat > ${expiry.servicePath} <<'WORKSHOP_FLEET_UNIT'
<@expiry.service/>
WORKSHOP_FLEET_UNIT
systemctl daemon-reload
systemctl enable --now ${expiry.timerName}

systemctl restart ssh
