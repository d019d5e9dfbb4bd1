<?php
echo "test2\n";
