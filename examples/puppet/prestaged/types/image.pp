# One image block of the spec: pinned by sha256 or sha512 and size, or taken
# from an endorsed list with trust and id. Keys are the spec's attribute
# names; `prestaged validate` checks the rules between them. The install
# attributes (format to on_change) are those of Prestaged::Defaults.
type Prestaged::Image = Struct[{
  Optional[sha256]         => Pattern[/\A[0-9a-fA-F]{64}\z/],
  Optional[sha512]         => Pattern[/\A[0-9a-fA-F]{128}\z/],
  Optional[size]           => Integer[1],
  Optional[path]           => String[1],
  install                  => Pattern[/\A\//],
  Optional[sources]        => Array[String[1]],
  Optional[trust]          => String[1],
  Optional[id]             => String[1],
  Optional[torrent_url]    => String[1],
  Optional[infohash]       => Pattern[/\A[0-9a-fA-F]{40}\z/],
  Optional[format]         => Prestaged::Format,
  Optional[install_format] => Prestaged::InstallFormat,
  Optional[owner]          => Prestaged::Owner,
  Optional[group]          => Prestaged::Owner,
  Optional[mode]           => Prestaged::Mode,
  Optional[on_change]      => Enum['restore', 'keep'],
}]
