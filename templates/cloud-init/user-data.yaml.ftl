<#import "/templates/cloud-init/expiry.ftl" as expiry>
<#-- Re-indents nested content for a YAML literal block: every line gets `by` spaces and ends with a newline. -->
<#macro indent by><#local body><#nested></#local><#list body?trim?split("\n") as line>${""?left_pad(by)}${line}
</#list></#macro>
#cloud-config
# ${machineName}: attendee ${attendee} of workshop ${workshop}, expires ${expiresAtIso}
hostname: ${hostname}
preserve_hostname: false
ssh_deletekeys: true
ssh_keys:
  ed25519_private: |
<@indent by=4>${hostKeyPrivate}</@indent><#t>
  ed25519_public: ${hostKeyPublic}
users:
  - default
  - name: ubuntu
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
    ssh_authorized_keys:
      - ${loginPublicKey}
write_files:
  - path: ${expiry.timerPath}
    permissions: '0644'
    content: |
<@indent by=6><@expiry.timer/></@indent>
  - path: ${expiry.servicePath}
    permissions: '0644'
    content: |
<@indent by=6><@expiry.service/></@indent>
runcmd:
  - [systemctl, daemon-reload]
  - [systemctl, enable, --now, ${expiry.timerName}]
