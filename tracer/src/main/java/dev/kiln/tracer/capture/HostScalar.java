package dev.kiln.tracer.capture;

import dev.kiln.ir.ScalarType;
import dev.kiln.ir.Value;

/**
 * A Java {@code int}, {@code long} or {@code double} computed from tensor data, held as a host-scalar
 * IR value ({@code int} scalars hold Java ints and longs, {@code float} scalars doubles). {@code jvm}
 * is the JVM type: {@code 'I'} (int, boolean, char, byte, short), {@code 'J'} (long) or {@code 'D'}
 * (double). An {@code 'I'} value always holds a number in the 32-bit range.
 */
record HostScalar(Value value, char jvm) {

    ScalarType type() { return jvm == 'D' ? ScalarType.FLOAT : ScalarType.INT; }
}
