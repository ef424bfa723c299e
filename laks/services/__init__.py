"""Plain functions that change things. Each takes the acting person explicitly (``actor=``),
writes its audit event, flushes, and never commits: the caller (a view or a CLI command)
commits once."""
