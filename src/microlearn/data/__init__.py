"""Input data: bundled and user datasets read defensively, and synthetic drifting streams."""
