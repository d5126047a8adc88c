"""lipsync backends: one module per backend; each registers itself."""
