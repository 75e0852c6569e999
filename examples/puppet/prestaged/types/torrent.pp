# The torrent block of the spec: the BitTorrent swarm as a source.
type Prestaged::Torrent = Struct[{
  Optional[tracker]         => String[1],
  Optional[listen]          => String[1],
  Optional[peers_from_tree] => Boolean,
  Optional[web_seed]        => Boolean,
}]
