"""tools/scenes — deterministic synthetic scenes (shapes, colours, sizes, positions) with canonical English, for
training and testing the bundled demo model (models/demo/)."""
