#!/usr/bin/env bpftrace
/*
 * php-compile.bt: every PHP file Apache's PHP compiles. Needs USE_ZEND_DTRACE=1 in apache2's environment (set by
 * the setup). With opcache on, only cache misses compile: try `sudo phpdismod opcache && sudo systemctl restart
 * apache2` and compare. arg0 is empty for included files; arg1 holds the path.
 */
usdt:${os.phpModulePath}:php:compile__file__return
{
  printf("%s %s\n", str(arg0), str(arg1));
}
