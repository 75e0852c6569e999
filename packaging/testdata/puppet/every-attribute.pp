# Every attribute the spec has, in a computed tree (the explicit parents
# are in parents.pp): with parents.pp, what TestPuppetCoversSpec renders.
class { 'prestaged':
  store           => '{{.Dir}}/store',
  stall_timeout   => '1m30s',
  parallel        => 3,
  spec_path       => '{{.Dir}}/spec.hcl',
  peer            => {
    listen       => ':7946',
    hosts        => ['lxb0001.example.org', 'lxb0002.example.org', 'lxb0003.example.org'],
    fanout       => 1,
    self         => 'lxb0003.example.org',
    upload_limit => '900Mbit',
    max_children => 8,
    pipelined    => false,
  },
  mirrors         => {
    'central' => 'https://images.example.org/vm/',
    'local'   => { url => 'file:///srv/images/' },
  },
  trust           => {
    'cern' => {
      list        => 'https://images.example.org/lists/cern.list',
      ca_dir      => '/etc/grid-security/certificates',
      endorser_dn => '/DC=ch/DC=cern/OU=computers/CN=image-endorser',
      endorser_ca => '/DC=ch/DC=cern/CN=CERN Grid Certification Authority',
      list_id     => 'a6d7b9e2-0a3c-4b5e-9f1d-2c3b4a5d6e7f',
      on_revoke   => 'keep',
      allow_sha1  => true,
      crl         => 'optional',
      subscribe   => true,
      install_dir => '{{.Dir}}/images/cern',
      defaults    => {
        format         => 'qcow2',
        install_format => 'raw',
        owner          => '0',
        group          => 'root',
        mode           => '0640',
        on_change      => 'keep',
      },
    },
  },
  torrent         => {
    tracker         => 'udp://tracker.example.org:6969',
    listen          => ':6881',
    peers_from_tree => true,
    web_seed        => false,
  },
  images          => {
    'slc6-batch' => {
      sha256         => 'a5dc722d21dfba9bec3c8a1bd750a325c891e95314fd71611bb6c2f47bcb626f',
      size           => 10737418240,
      path           => 'slc6-batch-20101130.img',
      install        => '{{.Dir}}/images/slc6-batch.img',
      sources        => ['parents', 'torrent', 'mirror.central'],
      torrent_url    => 'https://images.example.org/vm/slc6-batch.torrent',
      infohash       => '0123456789abcdef0123456789abcdef01234567',
      format         => 'raw',
      install_format => 'published',
      owner          => 'root',
      group          => '0',
      mode           => '0444',
      on_change      => 'restore',
    },
    'el9'        => {
      sha512  => '{{.SHA512}}',
      size    => 4096,
      install => '{{.Dir}}/images/el9.img',
    },
    'cernvm'     => {
      trust   => 'cern',
      id      => 'cernvm-4',
      install => '{{.Dir}}/images/cernvm.img',
    },
  },
  hooks           => {
    'pool-refresh' => {
      command => ['/usr/bin/virsh', 'pool-refresh', 'default'],
      on      => ['install', 'replace'],
      timeout => '30s',
    },
    'register'     => {
      command => ['/usr/local/bin/register'],
    },
  },
  manage_package  => false,
  manage_services => false,
  apply           => false,
}
