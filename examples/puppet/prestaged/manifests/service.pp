# @summary The packaged systemd units: the peer server (as a service or
#   socket-activated) and the periodic apply timer. Private to class prestaged.
class prestaged::service {
  $as_service = $prestaged::serve == 'service'
  $as_socket = $prestaged::serve == 'socket'

  service { 'prestaged.service':
    ensure    => $as_service,
    enable    => $as_service,
    # serve re-reads the spec on SIGHUP: children keep streaming.
    restart   => 'systemctl reload prestaged.service',
    subscribe => File[$prestaged::spec_path],
  }
  service { 'prestaged.socket':
    ensure => $as_socket,
    enable => $as_socket,
  }
  service { 'prestaged-apply.timer':
    ensure => $prestaged::timer,
    enable => $prestaged::timer,
  }
  if $prestaged::manage_package {
    Package['prestaged'] -> Service['prestaged.service', 'prestaged.socket', 'prestaged-apply.timer']
  }
}
