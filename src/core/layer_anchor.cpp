// Intentionally empty: gives every layer library at least one source file.
