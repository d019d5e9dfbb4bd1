# Managed by workshop-fleet: port 443 of this machine (docs/machine.md, "Port 443"). The terminal is ttyd on loopback
# behind the attendee's password (user ubuntu, the password on the card); Grafana keeps its own login. Nothing else of
# the machine is served here.
<VirtualHost *:443>
    SSLEngine on
    SSLCertificateFile /etc/ssl/workshop-fleet/tls.crt
    SSLCertificateKeyFile /etc/ssl/workshop-fleet/tls.key

    ProxyRequests Off
    ProxyPreserveHost On
    RequestHeader set X-Forwarded-Proto "https"
    RedirectMatch 302 ^/$ /terminal/
    RedirectMatch 302 ^/terminal$ /terminal/
    RedirectMatch 302 ^/grafana$ /grafana/

    <Location /terminal/>
        AuthType Basic
        AuthName "Workshop terminal: user ubuntu, the password on your card"
        AuthBasicProvider file
        AuthUserFile /etc/apache2/workshop-fleet.htpasswd
        Require user ubuntu
    </Location>
    # The websocket first (the more specific path), through mod_proxy_wstunnel; then ttyd's page and token.
    ProxyPass /terminal/ws ws://127.0.0.1:7681/terminal/ws
    ProxyPass /terminal/ http://127.0.0.1:7681/terminal/
    ProxyPassReverse /terminal/ http://127.0.0.1:7681/terminal/

    # Grafana serves itself from /grafana/ (serve_from_sub_path, templates/grafana/10-workshop-fleet.conf.ftl), so the
    # path is passed unchanged; its live updates are a websocket.
    ProxyPass /grafana/api/live/ ws://127.0.0.1:3000/grafana/api/live/
    ProxyPass /grafana/ http://127.0.0.1:3000/grafana/
    ProxyPassReverse /grafana/ http://127.0.0.1:3000/grafana/
</VirtualHost>
