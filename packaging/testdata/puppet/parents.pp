# The explicit tree of every-attribute.pp's computed one, through the
# listen and parents shorthands.
class { 'prestaged':
  store           => '{{.Dir}}/store',
  spec_path       => '{{.Dir}}/spec.hcl',
  listen          => ':7946',
  parents         => ['lxb0012.example.org:7946', 'lxb0013.example.org:7946'],
  manage_package  => false,
  manage_services => false,
  apply           => false,
}
