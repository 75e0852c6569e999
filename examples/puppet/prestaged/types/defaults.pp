# The defaults block of a subscribing trust: the install attributes of
# every image its list brings, as an image block gives them.
type Prestaged::Defaults = Struct[{
  Optional[format]         => Prestaged::Format,
  Optional[install_format] => Prestaged::InstallFormat,
  Optional[owner]          => Prestaged::Owner,
  Optional[group]          => Prestaged::Owner,
  Optional[mode]           => Prestaged::Mode,
  Optional[on_change]      => Enum['restore', 'keep'],
}]
