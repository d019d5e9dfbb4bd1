<?php
// This file does not parse on purpose: it produces a PHP parse error.
echo "never printed"
$missing_semicolon_above = true;
