# Managed by workshop-fleet (the same on every machine: it is baked into images).
global:
  scrape_interval: 15s
  evaluation_interval: 30s

scrape_configs:
  - job_name: ebpf
    static_configs:
      - targets: ['localhost:9435']
    metric_relabel_configs:
      # Keep only what the BPF programs export, not the exporter's own runtime metrics.
      - source_labels: [__name__]
        regex: '^(promhttp_|go_|process_|prometheus_|http_).+$'
        action: drop
