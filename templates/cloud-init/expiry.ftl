<#--
  The on-machine self-destruct shared by the cloud-config and the Lightsail launch script: a timer that powers the
  machine off at the fleet's expiry. On EC2, instance-initiated shutdown is "terminate", so a forgotten fleet stops
  billing by itself. Names, paths and the expiry lines come from org.workshopfleet.render.ExpiryTimer (the model's
  expiryUnits), which also rewrites them when the fleet is extended.
-->
<#assign timerPath = expiryUnits.timerPath>
<#assign servicePath = expiryUnits.servicePath>
<#assign timerName = expiryUnits.timerName>
<#macro timer>
[Unit]
Description=${expiryUnits.timerDescription}

[Timer]
OnCalendar=${expiryUnits.calendar}
# Fires on the next boot too if the machine was down at the expiry.
Persistent=true
AccuracySec=1min

[Install]
WantedBy=timers.target
</#macro>
<#macro service>
[Unit]
Description=Power off: the workshop fleet expired at ${expiryUnits.iso}

[Service]
Type=oneshot
ExecStart=/usr/bin/systemctl --no-block poweroff
</#macro>
