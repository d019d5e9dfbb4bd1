# Managed by workshop-fleet: the Prometheus on this machine, under the uid the dashboard import maps to. 127.0.0.1,
# not localhost: Prometheus listens on IPv4 loopback only, and localhost may resolve to ::1 first.
apiVersion: 1
datasources:
  - name: Prometheus
    type: prometheus
    uid: prometheus
    access: proxy
    orgId: 1
    url: http://127.0.0.1:9090
    isDefault: true
    jsonData:
      httpMethod: POST
      timeInterval: 15s
    version: 1
    editable: false
