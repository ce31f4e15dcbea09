"""Operations on latent codes: decoding, traversal, interpolation, arithmetic, neighbours
(`codes`) and 2-D/3-D maps of the codes (`projection`)."""
