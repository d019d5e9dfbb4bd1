#!/usr/bin/env bpftrace
/*
 * php-functions.bt: calls of user functions and methods, counted by class and name (top-level scripts show as
 * "main"). Needs USE_ZEND_DTRACE=1. Ctrl-C prints the counts.
 * function__entry args: function_name, request_file, lineno, classname, scope.
 */
usdt:${os.phpModulePath}:php:function__entry
{
  @calls[str(arg3), str(arg0)] = count();
}
