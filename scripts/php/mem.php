<?php
// Drives the memcached_set uprobe: 5000 sets whose values grow from 1 to 5000 bytes,
// so the value-length histogram fills many buckets.
$m = new Memcached();
$m->addServer('127.0.0.1', 11211);

$failed = 0;
for ($i = 1; $i <= 5000; $i++) {
    if (!$m->set('example_key' . $i, str_repeat('x', $i), 60)) {
        $failed++;
    }
}

if ($failed === 0) {
    echo "OK: stored 5000 keys in memcached\n";
} else {
    http_response_code(500);
    echo "FAILED: $failed of 5000 sets failed: " . $m->getResultMessage() . "\n";
}
