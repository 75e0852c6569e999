# A hook block of the spec: a command run after an image is installed,
# replaced or removed (all three unless on says fewer).
type Prestaged::Hook = Struct[{
  command           => Tuple[Pattern[/\A\//], String, 1, default],
  Optional[on]      => Array[Enum['install', 'replace', 'remove'], 1],
  Optional[timeout] => Prestaged::Duration,
}]
