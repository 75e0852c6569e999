# A batch node that stages one image from its parents in the tree, falling
# back to the central mirror. Try it with
#   puppet apply --noop --modulepath examples/puppet examples/puppet/prestaged/examples/init.pp
class { 'prestaged':
  parents => ['lxb0012.example.org:7946', 'lxb0013.example.org:7946'],
  listen  => ':7946',
  mirrors => { 'central' => 'https://images.example.org/vm/' },
  images  => {
    'slc6-batch' => {
      sha256  => 'a5dc722d21dfba9bec3c8a1bd750a325c891e95314fd71611bb6c2f47bcb626f',
      size    => 10737418240,
      path    => 'slc6-batch-20101130.img',
      install => '/var/lib/libvirt/images/slc6-batch.img',
      sources => ['parents', 'mirror.central'],
    },
  },
}
