# @summary Pre-stages VM images with prestaged: writes the host's spec and
#   converges the host to it.
#
# The spec is rendered from the parameters, which mirror the spec's blocks
# and attributes (docs/spec.md): `store`, `stall_timeout` and `parallel` at
# the top level, and one parameter per block (`peer`, `mirrors`, `trust`,
# `torrent`, `images`, `hooks`) whose keys are the block's attribute names;
# a trust's `defaults` is a nested hash, written as a nested block. A spec
# that `prestaged validate` refuses never replaces a working one.
#
# An `exec` runs `prestaged apply --detailed-exitcodes --wait` only when
# `prestaged plan --detailed-exitcodes` says changes are pending (exit 2),
# so a converged host reports no change. Between Puppet runs the packaged
# prestaged-apply.timer keeps the host converged; prestaged.service (or
# .socket) serves this host's children in the distribution tree.
#
# @example A node of a computed tree that also joins the swarm
#   class { 'prestaged':
#     peer    => { hosts => ['lxb0001', 'lxb0002', 'lxb0003'], fanout => 2 },
#     torrent => { peers_from_tree => true },
#     mirrors => { 'central' => 'https://images.example.org/vm/' },
#     images  => {
#       'slc6-batch' => { sha512 => '<128 hex digits>', size => 10737418240,
#                         install => '/var/lib/libvirt/images/slc6-batch.img' },
#     },
#   }
#
# @example A hook that refreshes a libvirt pool after each install
#   class { 'prestaged':
#     hooks => {
#       'pool-refresh' => { command => ['/usr/bin/virsh', 'pool-refresh', 'default'],
#                           on => ['install', 'replace'], timeout => '30s' },
#     },
#   }
#
# @param images
#   Image name => its attributes (sha256 or sha512 and size, or trust and id;
#   install; path, sources, torrent_url, infohash; format, install_format,
#   owner, group, mode, on_change).
# @param mirrors
#   Mirror name => its URL, or => a hash of the mirror block's attributes.
# @param parents
#   Shorthand for `peer => { parents => ... }`: this host's parents in the
#   tree, "host:port", tried in order.
# @param listen
#   Shorthand for `peer => { listen => ... }`: where `prestaged serve`
#   listens; undef omits it.
# @param peer
#   The peer block's attributes (listen, parents or hosts, fanout and self,
#   upload_limit, max_children, pipelined). With hosts and no self, self is
#   the host's FQDN. Undef writes a peer block only when listen or parents
#   is given; `{}` writes an empty one (a root with the defaults).
# @param trust
#   Trust name => the trust block's attributes (a signed image list); with
#   subscribe and install_dir every image of the list is installed, with
#   the install attributes in its `defaults` hash.
# @param torrent
#   The torrent block's attributes; undef writes no torrent block, `{}` an
#   empty one (the swarm with its defaults).
# @param hooks
#   Hook name => the hook block's attributes (command, on, timeout); hooks
#   run in the order given.
# @param store
#   The store directory.
# @param stall_timeout
#   The spec's stall_timeout, such as "30s"; undef keeps prestaged's default.
# @param parallel
#   Images fetched at once; undef keeps prestaged's default.
# @param spec_path
#   Where the spec is written.
# @param manage_package
#   Install the prestaged package.
# @param package_ensure
#   Its ensure value.
# @param manage_services
#   Manage the systemd units (off where systemd is not PID 1).
# @param serve
#   Run the peer server as 'service', socket-activated as 'socket', or 'none'.
# @param timer
#   Enable prestaged-apply.timer.
# @param apply
#   Converge during the Puppet run.
# @param path
#   Search path for the prestaged and systemctl binaries.
# @param apply_wait
#   Seconds the apply waits for another apply (the timer's) to release the
#   store lock before it fails; less than apply_timeout.
# @param apply_timeout
#   Seconds the apply may take before Puppet stops it (SIGTERM: prestaged
#   keeps what it staged, and the next run or the timer resumes from there).
class prestaged (
  Hash[String[1], Prestaged::Image]                     $images          = {},
  Hash[String[1], Variant[String[1], Prestaged::Mirror]] $mirrors        = {},
  Array[String[1]]                                      $parents         = [],
  Optional[String[1]]                                   $listen          = undef,
  Optional[Prestaged::Peer]                             $peer            = undef,
  Hash[String[1], Prestaged::Trust]                     $trust           = {},
  Optional[Prestaged::Torrent]                          $torrent         = undef,
  Hash[String[1], Prestaged::Hook]                      $hooks           = {},
  Pattern[/\A\//]                                       $store           = '/var/lib/prestaged',
  Optional[Prestaged::Duration]                         $stall_timeout   = undef,
  Optional[Integer[1]]                                  $parallel        = undef,
  Pattern[/\A\/\S+\z/]                                  $spec_path       = '/etc/prestaged/spec.hcl',
  Boolean                                               $manage_package  = true,
  String[1]                                             $package_ensure  = 'installed',
  Boolean                                               $manage_services = true,
  Enum['service', 'socket', 'none']                     $serve           = 'service',
  Boolean                                               $timer           = true,
  Boolean                                               $apply           = true,
  Array[String[1]]                                      $path            = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'],
  Integer[0]                                            $apply_wait      = 300,
  Integer[1]                                            $apply_timeout   = 1800,
) {
  if $apply_wait >= $apply_timeout {
    fail("prestaged: apply_wait (${apply_wait}s) must be less than apply_timeout (${apply_timeout}s)")
  }

  file { $spec_path:
    ensure       => file,
    mode         => '0644',
    content      => epp('prestaged/spec.hcl.epp', {
      top     => { store => $store, stall_timeout => $stall_timeout, parallel => $parallel }.filter |$k, $v| { $v =~ NotUndef },
      peer    => prestaged::peer($peer, $listen, $parents, $facts.dig('networking', 'fqdn')),
      mirrors => $mirrors.map |$name, $m| { [$name, $m ? { String => { url => $m }, default => $m }] }.convert_to(Hash),
      trust   => $trust,
      torrent => $torrent,
      images  => $images,
      hooks   => $hooks,
    }),
    validate_cmd => 'prestaged validate %',
  }

  if $manage_package {
    package { 'prestaged':
      ensure => $package_ensure,
      before => File[$spec_path],
    }
  }

  if $apply {
    exec { 'prestaged apply':
      command   => "prestaged apply --detailed-exitcodes --wait ${apply_wait}s ${spec_path}",
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
    if $manage_package {
      Package['prestaged'] -> Class['prestaged::service']
    }
  }
}
