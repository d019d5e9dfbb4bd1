# Managed by workshop-fleet. PHP reads USE_ZEND_DTRACE once when Apache starts: compile, execute and function
# probes need it (restart apache2, not reload, after changing it).
[Service]
Environment=APACHE_STARTED_BY_SYSTEMD=true USE_ZEND_DTRACE=1
