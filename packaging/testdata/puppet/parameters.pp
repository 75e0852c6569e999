# A TestPuppetParameters case: the class with the case's parameters, then
# the case's own resources.
$bin = '{{.Bin}}'
class { 'prestaged':
  store           => '{{.Dir}}/store',
  spec_path       => '{{.Dir}}/spec.hcl',
  manage_services => false,
  {{.Params}}
}
{{.After}}
