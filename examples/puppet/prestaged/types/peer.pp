# The peer block of the spec: this host's place in the distribution tree,
# given as its parents or as one hosts list (with fanout and self) from
# which every host computes the same tree.
type Prestaged::Peer = Struct[{
  Optional[listen]       => String[1],
  Optional[parents]      => Array[String[1]],
  Optional[hosts]        => Array[String[1], 1],
  Optional[fanout]       => Integer[1],
  Optional[self]         => String[1],
  Optional[upload_limit] => String[1],
  Optional[max_children] => Integer[0],
  Optional[pipelined]    => Boolean,
}]
