# A signed HEPiX image list and who must have endorsed it.
type Prestaged::Trust = Struct[{
  list                => String[1],
  ca_dir              => Pattern[/\A\//],
  endorser_dn         => String[1],
  endorser_ca         => String[1],
  Optional[list_id]   => String[1],
  Optional[on_revoke] => Enum['remove', 'keep'],
  Optional[crl]       => Enum['required', 'optional', 'off'],
}]
