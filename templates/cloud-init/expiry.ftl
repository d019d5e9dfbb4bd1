<#--
  The on-machine self-destruct shared by the cloud-config and the Lightsail launch script: a timer that powers the
  machine off at the fleet's expiry. On EC2, instance-initiated shutdown is "terminate", so a forgotten fleet stops
  billing by itself.
-->
<#assign timerPath = "/etc/systemd/system/workshop-fleet-expiry.timer">
<#assign servicePath = "/etc/systemd/system/workshop-fleet-expiry.service">
<#assign timerName = "workshop-fleet-expiry.timer">
<#macro timer>
[Unit]
Description=Power off this workshop machine at the fleet's expiry (${expiresAtIso})

[Timer]
OnCalendar=${expiresAtCalendar}
# Fires on the next boot too if the machine was down at the expiry.
Persistent=true
AccuracySec=1min

[Install]
WantedBy=timers.target
</#macro>
<#macro service>
[Unit]
Description=Power off: the workshop fleet expired at ${expiresAtIso}

[Service]
Type=oneshot
ExecStart=/usr/bin/systemctl --no-block poweroff
</#macro>
