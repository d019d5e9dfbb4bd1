# bpftrace exercises (${os.label}, PHP ${os.phpVersion})

PHP runs inside Apache as `${os.phpModulePath}`.

| command | what it shows |
|---|---|
| `sudo bpftrace bt/memc.bt` | each `memcached_set` while you load `/mem.php` (uprobe in libmemcached) |
| `sudo bpftrace bt/memc-hist.bt` | value-length histogram of the same calls |
| `sudo bpftrace -l 'uprobe:${os.phpModulePath}:*'` | functions of the PHP module you can uprobe |
| `sudo bpftrace -l 'usdt:${os.phpModulePath}:*'` | PHP's USDT probes |
| `sudo bpftrace bt/php-compile.bt` | files PHP compiles (toggle opcache: `sudo phpdismod opcache && sudo systemctl restart apache2`) |
| `sudo bpftrace bt/php-functions.bt` | PHP function calls by class and name |
| `sudo bpftrace bt/php-exceptions.bt` | exceptions thrown and caught (`/exception.php`) |
| `sudo bpftrace bt/php-request.bt` | time per request |
| `sudo cat /sys/kernel/debug/tracing/trace_pipe` | `bpf_printk` output |
| `sudo bpftool map` / `sudo bpftool map dump id N` | BPF maps and their contents |
| `curl -s localhost:9435/metrics \| grep ^ebpf_exporter_php` | the exporter's PHP metrics |

The ebpf_exporter example: `cd ~/ebpf_exporter/examples && make`, then from `~/ebpf_exporter`:
`sudo ebpf_exporter --config.dir=examples --config.names=php`.
