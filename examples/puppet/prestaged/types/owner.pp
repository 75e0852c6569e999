# A user or group (`owner`, `group`): a name, which must be known on the
# host, or a numeric id.
type Prestaged::Owner = Pattern[/\A([0-9]+|[A-Za-z_][A-Za-z0-9_.@-]*\$?)\z/]
