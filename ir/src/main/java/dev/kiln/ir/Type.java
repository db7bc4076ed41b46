package dev.kiln.ir;

/** The type of an IR value: a tensor, or a host scalar used by control flow. */
public sealed interface Type permits TensorType, ScalarType {}
