# Managed by workshop-fleet: attendees log in as ubuntu with the password on their card; other users keep keys only.
Match User ubuntu
    PasswordAuthentication yes
# End the Match block so nothing read after this file is scoped to it.
Match all
