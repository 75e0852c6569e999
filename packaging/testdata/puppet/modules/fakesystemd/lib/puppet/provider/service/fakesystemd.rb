# Puppet's systemd provider without its check that systemd is PID 1, so
# the tests can drive the fake systemctl in testdata/puppet/bin.
Puppet::Type.type(:service).provide :fakesystemd, :parent => :systemd do
  desc 'The systemd provider for tests: systemctl is whatever PATH finds.'
end
