"""The parts of the exploring pages: Traverse, Interpolate, Arithmetic, Encode and Generate."""
