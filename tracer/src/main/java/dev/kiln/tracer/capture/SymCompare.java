package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;

/**
 * The int result of {@code dcmpl}/{@code dcmpg} on a symbolic scalar: {@code a} compared with
 * {@code b} (same-dtype one-element tensors), where {@code nanResult} is what NaN gives (-1 or 1).
 */
record SymCompare(Tensor a, Tensor b, int nanResult) {}
