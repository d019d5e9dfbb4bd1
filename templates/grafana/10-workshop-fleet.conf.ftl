# Managed by workshop-fleet: this machine's own admin password, applied on Grafana's first start.
[Service]
EnvironmentFile=/etc/grafana/workshop-fleet.env
