<?php
// Drives the exception__thrown / exception__caught probes: two caught exceptions, then an uncaught one.
try {
    throw new RuntimeException('a runtime exception, caught');
} catch (RuntimeException $e) {
    echo 'caught ' . get_class($e) . ': ' . $e->getMessage() . "\n";
}

try {
    throw new Exception('a plain exception, caught');
} catch (Exception $e) {
    echo 'caught ' . get_class($e) . ': ' . $e->getMessage() . "\n";
}

throw new Exception('this one is not caught');
