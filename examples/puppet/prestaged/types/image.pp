# One image of the spec: pinned by sha256 and size, or taken from an
# endorsed list with trust and id. Keys are the spec's attribute names.
type Prestaged::Image = Struct[{
  Optional[sha256]      => Pattern[/\A[0-9a-f]{64}\z/],
  Optional[size]        => Integer[0],
  Optional[path]        => String[1],
  install               => Pattern[/\A\//],
  Optional[sources]     => Array[String[1]],
  Optional[trust]       => String[1],
  Optional[id]          => String[1],
  Optional[torrent_url] => String[1],
  Optional[info_hash]   => Pattern[/\A[0-9a-f]{40}\z/],
}]
