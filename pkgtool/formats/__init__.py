"""One home per package format (rpm/, deb/), and what the formats share: build, generate, read, install steps, tools."""
