# Managed by workshop-fleet: the Prometheus on this machine, under the uid the dashboard import maps to.
apiVersion: 1
datasources:
  - name: Prometheus
    type: prometheus
    uid: prometheus
    access: proxy
    orgId: 1
    url: http://localhost:9090
    isDefault: true
    jsonData:
      httpMethod: POST
      timeInterval: 15s
    version: 1
    editable: false
