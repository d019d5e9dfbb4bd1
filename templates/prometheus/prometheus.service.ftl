# Managed by workshop-fleet: the workshop's Prometheus 3.1.0 (flags as in the workshop; no 2.x-only flags).
# --storage.tsdb.path=data/ is upstream's default, spelled out so a distribution build with another default
# (Debian's points at /var/lib/prometheus) still keeps its data beside the binary, where user nobody may write.
# --web.listen-address: loopback only (upstream listens on every address); Grafana, the setup step and verify all
# query it on the machine, so nothing outside needs to reach it whatever the security group says.
[Unit]
Description=Prometheus for the eBPF + PHP workshop
Wants=network-online.target
After=network-online.target

[Service]
User=nobody
WorkingDirectory=/usr/local/prometheus
ExecStart=/usr/local/prometheus/prometheus --config.file=/usr/local/prometheus/prometheus.yml --web.listen-address=127.0.0.1:9090 --storage.tsdb.path=data/ --storage.tsdb.retention.time=40d --query.timeout=10s --web.read-timeout=30s --query.lookback-delta=30m --enable-feature=promql-experimental-functions
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure

[Install]
WantedBy=multi-user.target
