// SPDX-License-Identifier: MIT
//
// Test stand-in for examples/php.bpf.c of the attendee sources (egmc/ebpf_exporter, branch ebpf-php-sample),
// written for workshop-fleet's lab tests: PHP USDT probes and a libmemcached uprobe turned into the metrics the
// workshop dashboard shows (see php.yaml). Build with `make` in this directory (clang, bpftool, libbpf >= 0.8
// headers for bpf/usdt.bpf.h).

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#ifndef PHP_LIB
#define PHP_LIB "/usr/lib/apache2/modules/libphp8.2.so"
#endif
#define MEMCACHED_LIB "/usr/lib/x86_64-linux-gnu/libmemcached.so.11"

#define FILENAME_LEN 128
#define CLASS_LEN 64
#define URI_LEN 64
#define METHOD_LEN 8
#define REQUEST_BUCKET_MAX 27
#define LENGTH_BUCKET_MAX 22

// Map names are the metric names (ebpf_exporter prefixes them with ebpf_exporter_).
struct compile_key {
    char filename[FILENAME_LEN];
};

struct class_key {
    char class_name[CLASS_LEN];
};

struct request_key {
    char uri[URI_LEN];
    char method[METHOD_LEN];
    u64 bucket;
};

struct request_start {
    u64 started_ns;
    char uri[URI_LEN];
    char method[METHOD_LEN];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct compile_key);
    __type(value, u64);
} php_compile_file_total SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct class_key);
    __type(value, u64);
} php_exception_thrown_total SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct class_key);
    __type(value, u64);
} php_exception_caught_total SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct request_key);
    __type(value, u64);
} php_request_time_sec SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, u64);
    __type(value, struct request_start);
} php_request_starts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, LENGTH_BUCKET_MAX + 2);
    __type(key, u64);
    __type(value, u64);
} memcached_set_val_length SEC(".maps");

static __always_inline void add(void *map, const void *key, u64 amount)
{
    u64 *value = bpf_map_lookup_elem(map, key);
    if (value) {
        __sync_fetch_and_add(value, amount);
        return;
    }
    bpf_map_update_elem(map, key, &amount, BPF_NOEXIST);
    value = bpf_map_lookup_elem(map, key);
    if (value && *value != amount) {
        // Another CPU created the entry first: our update failed, so add to theirs.
        __sync_fetch_and_add(value, amount);
    }
}

// exp2 histogram bucket: key k counts values in (2^(k-1), 2^k], clamped to max.
static __always_inline u64 exp2_bucket(u64 value, u64 max)
{
    u64 bucket = 0;
    u64 rest = value > 0 ? value - 1 : 0;
    for (int i = 0; i < 64 && rest; i++) {
        rest >>= 1;
        bucket++;
    }
    return bucket > max ? max : bucket;
}

SEC("usdt/" PHP_LIB ":php:compile__file__entry")
int BPF_USDT(php_compile_file_entry, char *compile_file, char *compile_file_translated)
{
    struct compile_key key = {};
    int last_slash = -1;

    // arg0 is empty for included files; arg1 always carries the path.
    bpf_probe_read_user_str(key.filename, sizeof(key.filename), compile_file_translated);
    for (int i = 0; i < FILENAME_LEN; i++) {
        if (key.filename[i] == 0)
            break;
        if (key.filename[i] == '/')
            last_slash = i;
    }
    // Keep only the directory, so path1/a.php and path2/a.php count apart but files in one folder count together.
    for (int i = 0; i < FILENAME_LEN; i++) {
        if (last_slash > 0 && i >= last_slash)
            key.filename[i] = 0;
    }
    add(&php_compile_file_total, &key, 1);
    return 0;
}

SEC("usdt/" PHP_LIB ":php:exception__thrown")
int BPF_USDT(php_exception_thrown, char *class_name)
{
    struct class_key key = {};

    bpf_probe_read_user_str(key.class_name, sizeof(key.class_name), class_name);
    add(&php_exception_thrown_total, &key, 1);
    return 0;
}

SEC("usdt/" PHP_LIB ":php:exception__caught")
int BPF_USDT(php_exception_caught, char *class_name)
{
    struct class_key key = {};

    bpf_probe_read_user_str(key.class_name, sizeof(key.class_name), class_name);
    add(&php_exception_caught_total, &key, 1);
    return 0;
}

SEC("usdt/" PHP_LIB ":php:request__startup")
int BPF_USDT(php_request_startup, char *file, char *request_uri, char *request_method)
{
    u64 id = bpf_get_current_pid_tgid();
    struct request_start start = {};

    start.started_ns = bpf_ktime_get_ns();
    bpf_probe_read_user_str(start.uri, sizeof(start.uri), request_uri);
    bpf_probe_read_user_str(start.method, sizeof(start.method), request_method);
    bpf_map_update_elem(&php_request_starts, &id, &start, BPF_ANY);
    return 0;
}

SEC("usdt/" PHP_LIB ":php:request__shutdown")
int BPF_USDT(php_request_shutdown, char *file, char *request_uri, char *request_method)
{
    u64 id = bpf_get_current_pid_tgid();
    struct request_start *start = bpf_map_lookup_elem(&php_request_starts, &id);
    struct request_key key = {};
    u64 micros;

    if (!start)
        return 0;
    micros = (bpf_ktime_get_ns() - start->started_ns) / 1000;
    __builtin_memcpy(key.uri, start->uri, sizeof(key.uri));
    __builtin_memcpy(key.method, start->method, sizeof(key.method));
    bpf_map_delete_elem(&php_request_starts, &id);

    key.bucket = exp2_bucket(micros, REQUEST_BUCKET_MAX);
    add(&php_request_time_sec, &key, 1);
    // Key bucket_max + 1 carries the sum, which ebpf_exporter reports as the histogram's _sum.
    key.bucket = REQUEST_BUCKET_MAX + 1;
    add(&php_request_time_sec, &key, micros);
    return 0;
}

// BPF_KPROBE reads a uprobe's arguments from the same registers; BPF_UPROBE only appeared in libbpf 1.2, and the
// lab's libbpf stand-in ships Debian 12's libbpf 1.1 headers.
SEC("uprobe/" MEMCACHED_LIB ":memcached_set")
int BPF_KPROBE(memcached_set, void *ptr, const char *key, size_t key_length, const char *value, size_t value_length)
{
    u64 bucket = exp2_bucket(value_length, LENGTH_BUCKET_MAX);

    add(&memcached_set_val_length, &bucket, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
