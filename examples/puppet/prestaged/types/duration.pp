# A Go duration such as "30s" or "1m30s" (`stall_timeout`, a hook's `timeout`).
type Prestaged::Duration = Pattern[/\A([0-9.]+(ns|us|µs|ms|s|m|h))+\z/]
