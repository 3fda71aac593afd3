"""Pure business rules: dataclasses and functions with `now` passed in, no I/O."""
