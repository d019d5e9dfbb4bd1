#!/usr/bin/env bpftrace
/*
 * php-request.bt: time per PHP request, from request__startup to request__shutdown in the same thread, in
 * microseconds, by URI. request args: file, request_uri, request_method.
 */
usdt:${os.phpModulePath}:php:request__startup
{
  @start[tid] = nsecs;
}

usdt:${os.phpModulePath}:php:request__shutdown
/@start[tid]/
{
  $us = (nsecs - @start[tid]) / 1000;
  printf("%s %s %d us\n", str(arg2), str(arg1), $us);
  @request_us = hist($us);
  delete(@start[tid]);
}

END
{
  clear(@start);
}
