# @summary The packaged systemd units: the peer server (as a service or
#   socket-activated) and the periodic apply timer. Private to class prestaged.
#
# With serve => 'socket', prestaged.socket is enabled and running and
# systemd starts prestaged.service on the first connection, so Puppet
# leaves the service's running state alone (stopping it would cut the
# children it serves) and only keeps it disabled: enabled, it would start
# at boot without waiting for a connection.
#
# @api private
class prestaged::service {
  $reload = 'systemctl reload prestaged.service'

  case $prestaged::serve {
    'service': {
      service { 'prestaged.socket':
        ensure => stopped,
        enable => false,
      }
      -> service { 'prestaged.service':
        ensure    => running,
        enable    => true,
        # serve re-reads the spec on SIGHUP: children keep streaming.
        restart   => $reload,
        subscribe => File[$prestaged::spec_path],
      }
    }
    'socket': {
      # A server started as a plain service holds the port the socket needs;
      # once the socket listens, the server it starts is left running.
      exec { 'prestaged: stop the server the socket did not start':
        command => 'systemctl stop prestaged.service',
        unless  => 'systemctl is-active --quiet prestaged.socket',
        path    => $prestaged::path,
      }
      -> service { 'prestaged.socket':
        ensure => running,
        enable => true,
      }
      service { 'prestaged.service':
        enable    => false,
        # Puppet reloads only a running service: one the socket started.
        restart   => $reload,
        subscribe => File[$prestaged::spec_path],
      }
    }
    default: {
      service { ['prestaged.service', 'prestaged.socket']:
        ensure => stopped,
        enable => false,
      }
    }
  }

  service { 'prestaged-apply.timer':
    ensure => $prestaged::timer,
    enable => $prestaged::timer,
  }
}
