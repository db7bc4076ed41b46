package dev.kiln.tracer.capture;

import dev.kiln.ir.Value;

/**
 * The int result of {@code lcmp}/{@code dcmpl}/{@code dcmpg} on host scalars of one type, where
 * {@code nanResult} is what NaN gives (-1 or 1; 0 for {@code lcmp}, which has no NaN).
 */
record HostCompare(Value a, Value b, int nanResult) {}
