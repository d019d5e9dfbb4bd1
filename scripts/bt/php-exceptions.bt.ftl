#!/usr/bin/env bpftrace
/*
 * php-exceptions.bt: exceptions thrown and caught, by class; load /exception.php. These probes fire even without
 * USE_ZEND_DTRACE. (PHP's `error` probe never fires on PHP 8.1/8.2, so the workshop does not use it.)
 */
usdt:${os.phpModulePath}:php:exception__thrown
{
  printf("thrown %s\n", str(arg0));
  @thrown[str(arg0)] = count();
}

usdt:${os.phpModulePath}:php:exception__caught
{
  printf("caught %s\n", str(arg0));
  @caught[str(arg0)] = count();
}
