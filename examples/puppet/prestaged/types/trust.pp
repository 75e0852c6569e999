# A trust block of the spec: a signed HEPiX image list and who must have
# endorsed it; with subscribe, every image of the list is installed in
# install_dir, with the install attributes of defaults.
type Prestaged::Trust = Struct[{
  list                  => String[1],
  ca_dir                => Pattern[/\A\//],
  endorser_dn           => String[1],
  endorser_ca           => String[1],
  Optional[list_id]     => String[1],
  Optional[on_revoke]   => Enum['remove', 'keep'],
  Optional[allow_sha1]  => Boolean,
  Optional[crl]         => Enum['required', 'optional', 'off'],
  Optional[subscribe]   => Boolean,
  Optional[install_dir] => Pattern[/\A\//],
  Optional[defaults]    => Prestaged::Defaults,
}]
