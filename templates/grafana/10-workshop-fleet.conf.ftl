# Managed by workshop-fleet: this machine's own admin password, applied on Grafana's first start, and Grafana under
# /grafana/ for Apache's https://<machine>/grafana/ (Grafana documentation, "Run Grafana behind a reverse proxy").
# serve_from_sub_path: Grafana serves /grafana/ itself and still answers /api/ without the prefix; any other page
# without it (the workshop's http://<machine>:3000/) is redirected to /grafana/ on the same port. root_url is relative
# (no host): the same on every machine, and that redirect stays on whichever address and port the browser used.
[Service]
EnvironmentFile=/etc/grafana/workshop-fleet.env
Environment=GF_SERVER_SERVE_FROM_SUB_PATH=true GF_SERVER_ROOT_URL=/grafana/
