# The units TestPuppetServices drives through the fake systemctl.
class { 'prestaged':
  store           => '{{.Dir}}/store',
  spec_path       => '{{.Dir}}/spec.hcl',
  serve           => '{{.Serve}}',
  timer           => {{.Timer}},
  manage_package  => false,
  apply           => false,
  path            => ['{{.Fake}}', '/usr/bin', '/bin'],
}
Service <| |> { provider => 'fakesystemd' }
