# Octal permission bits of an install (`mode`), such as "0640".
type Prestaged::Mode = Pattern[/\A[0-7]{3,4}\z/]
