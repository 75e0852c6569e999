# What TestPuppet applies for real: the root of a computed tree with a
# torrent block, an image pinned by sha512 on a file mirror and an image
# endorsed in a signed list; services off (systemd is not PID 1 in CI).
class { 'prestaged':
  store           => '{{.Dir}}/store',
  spec_path       => '{{.Dir}}/etc/spec.hcl',
  stall_timeout   => '10s',
  peer            => {
    hosts => ['root.example.org', 'child.example.org'],
    self  => 'root.example.org',
  },
  torrent         => { listen => '127.0.0.1:0', web_seed => true },
  mirrors         => { 'local' => 'file://{{.Dir}}/mirror/' },
  trust           => {
    'site' => {
      list        => 'file://{{.Dir}}/published/site.list',
      ca_dir      => '{{.Dir}}/pki/certificates',
      endorser_dn => '{{.EndorserDN}}',
      endorser_ca => '{{.RootDN}}',
      crl         => 'optional',
    },
  },
  images          => {
    'tiny'     => {
      sha512  => '{{.SHA512}}',
      size    => {{.Size}},
      path    => 'tiny.img',
      install => '{{.Dir}}/images/tiny.img',
      sources => ['mirror.local'],
    },
    'endorsed' => {
      trust   => 'site',
      id      => 'endorsed-1',
      install => '{{.Dir}}/images/endorsed.img',
      sources => ['endorsed'],
    },
  },
  manage_package  => false,
  manage_services => false,
  apply_wait      => 5,
  apply_timeout   => 600,
  path            => ['{{.Bin}}', '/usr/bin', '/bin'],
}
