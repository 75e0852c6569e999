# Renders a value as an HCL literal for spec.hcl: integers and booleans
# bare, arrays as lists, strings quoted with HCL's escapes. "${" and "%{"
# are doubled so that no value is read as an HCL template.
#
# @param value  a spec attribute's value
# @return the value as HCL source
function prestaged::hcl_value(Variant[String, Integer, Boolean, Array] $value) >> String {
  case $value {
    Boolean, Integer: { String($value) }
    Array: { "[${value.map |$v| { prestaged::hcl_value($v) }.join(', ')}]" }
    default: {
      $chars = $value.split('')
      $escaped = $chars.map |$i, $c| {
        $next = $chars[$i + 1]
        $c ? {
          '"'     => '\\"',
          '\\'    => '\\\\',
          "\n"    => '\\n',
          "\r"    => '\\r',
          "\t"    => '\\t',
          '$'     => $next ? { '{' => '$$', default => '$' },
          '%'     => $next ? { '{' => '%%', default => '%' },
          default => $c,
        }
      }
      "\"${escaped.join('')}\""
    }
  }
}
