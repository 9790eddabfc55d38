"""Reading pkgtool.toml: the loader (load), its TOML position scanner (tomlpos); every error located."""
