ubuntu:${sshPassword}
