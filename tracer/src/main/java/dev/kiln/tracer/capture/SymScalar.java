package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;

/**
 * A Java {@code double} that {@code item()} read from tensor data: it stays a one-element tensor in
 * the IR (here, its example tensor), so comparisons and arithmetic on it become tensor ops.
 */
record SymScalar(Tensor tensor) {}
