<?php
// The same file in path1/ and path2/: the compile counter groups by directory.
echo 'compiled from ' . __DIR__ . "\n";
