# The peer block to write: the peer parameter with the listen and parents
# shorthands merged in, self defaulting to the host's FQDN in a computed
# tree; undef when there is nothing to write.
#
# @param peer     the class's peer parameter
# @param listen   the class's listen shorthand
# @param parents  the class's parents shorthand
# @param fqdn     the host's FQDN fact, undef where Facter has none
# @return the peer block's attributes, or undef for no peer block
function prestaged::peer(
  Optional[Prestaged::Peer] $peer,
  Optional[String[1]]       $listen,
  Array[String[1]]          $parents,
  Optional[String]          $fqdn,
) >> Optional[Prestaged::Peer] {
  $short = { listen => $listen, parents => $parents }.filter |$k, $v| { $v =~ NotUndef and $v != [] }
  $given = $peer.lest || { {} }
  $both = $short.keys.filter |$k| { $k in $given }
  unless $both.empty {
    fail("prestaged: ${both.join(', ')} given both as a class parameter and in peer; give it once")
  }
  $merged = $given + $short
  $self = ('hosts' in $merged and !('self' in $merged) and $fqdn =~ String[1]) ? {
    true    => { self => $fqdn },
    default => {},
  }
  ($peer =~ Undef and $short.empty) ? {
    true    => undef,
    default => $merged + $self,
  }
}
