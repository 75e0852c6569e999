# @summary Pre-stages VM images with prestaged: writes the host's spec and
#   converges the host to it.
#
# The spec is rendered from the parameters. An `exec` runs
# `prestaged apply --detailed-exitcodes` only when
# `prestaged plan --detailed-exitcodes` says changes are pending (exit 2),
# so a converged host reports no change. Between Puppet runs the packaged
# prestaged-apply.timer keeps the host converged; prestaged.service (or
# .socket) serves this host's children in the distribution tree.
#
# @param images   image name => attributes (sha256, size, path, install, sources, or trust and id)
# @param mirrors  mirror name => URL (http, https or file)
# @param parents  this host's parents in the tree, "host:port", tried in order
# @param trust    trust name => signed image list attributes
# @param store    the store directory
# @param listen   address `prestaged serve` listens on; undef omits it
# @param spec_path        where the spec is written
# @param manage_package   install the prestaged package
# @param package_ensure   its ensure value
# @param manage_services  manage the systemd units (off where systemd is not PID 1)
# @param serve    run the peer server as 'service', as 'socket', or 'none'
# @param timer    enable prestaged-apply.timer
# @param apply    converge during the Puppet run
# @param path     search path for the prestaged binary
# @param apply_timeout  seconds the apply may take; 0: no limit (stalls are cut by prestaged)
class prestaged (
  Hash[String[1], Prestaged::Image] $images          = {},
  Hash[String[1], String[1]]        $mirrors         = {},
  Array[String[1]]                  $parents         = [],
  Hash[String[1], Prestaged::Trust] $trust           = {},
  Pattern[/\A\//]                   $store           = '/var/lib/prestaged',
  Optional[String[1]]               $listen          = undef,
  Pattern[/\A\/\S+\z/]              $spec_path       = '/etc/prestaged/spec.hcl',
  Boolean                           $manage_package  = true,
  String[1]                         $package_ensure  = 'installed',
  Boolean                           $manage_services = true,
  Enum['service', 'socket', 'none'] $serve           = 'service',
  Boolean                           $timer           = true,
  Boolean                           $apply           = true,
  Array[String[1]]                  $path            = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'],
  Integer[0]                        $apply_timeout   = 0,
) {
  if $manage_package {
    package { 'prestaged':
      ensure => $package_ensure,
      before => File[$spec_path],
    }
  }

  file { $spec_path:
    ensure       => file,
    mode         => '0644',
    content      => epp('prestaged/spec.hcl.epp', {
      store   => $store,
      listen  => $listen,
      parents => $parents,
      mirrors => $mirrors,
      trust   => $trust,
      images  => $images,
    }),
    # A spec that does not validate never replaces a working one.
    validate_cmd => 'prestaged validate %',
  }

  if $apply {
    exec { 'prestaged apply':
      command   => "prestaged apply --detailed-exitcodes ${spec_path}",
      unless    => "prestaged plan --detailed-exitcodes ${spec_path}",
      returns   => [0, 2],
      path      => $path,
      timeout   => $apply_timeout,
      logoutput => on_failure,
      require   => File[$spec_path],
    }
  }

  if $manage_services {
    contain prestaged::service
  }
}
