package dev.kiln.ir.testing;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Value;

/** Random {@code constant} ops: small tensors of every dtype (special floats included) and host scalars. */
final class RandomConstants {

    private static final double[] SPECIAL = {
        0.0, -0.0, 1.0, -2.5, 0.1, 1.0e-5, 3.4028234663852886e38, 1.401298464324817e-45,
        Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 65504.0, 1.0 / 3.0
    };

    private RandomConstants() {}

    /** An f32 constant of the given static shape. */
    static Value f32(GenState s, Builder b, long... shape) {
        return tensor(s, b, DType.F32, shape);
    }

    static Value tensor(GenState s, Builder b, DType dtype, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        double[] values = new double[Math.toIntExact(n)];
        for (int i = 0; i < values.length; i++) values[i] = element(s.c, dtype);
        return b.constant(Attribute.Tensor.fromDoubles(dtype, shape, values));
    }

    private static double element(Choices c, DType dtype) {
        return switch (dtype.kind()) {
            case BOOL -> c.next(2);
            case INT -> dtype.isUnsigned() && !dtype.isStorageOnly() ? c.next(256) : c.between(-128, 127);
            case FLOAT -> c.chance(30) ? SPECIAL[c.next(SPECIAL.length)] : (c.between(-64, 64) / 8.0 + c.next(1000) * 1.0e-4);
        };
    }

    /** A constant of random dtype and small shape, or a host scalar. */
    static Value any(GenState s, Builder b) {
        Choices c = s.c;
        return switch (c.next(6)) {
            case 0 -> b.constant(Attribute.of((long) c.between(-5, 5)));
            case 1 -> b.constant(Attribute.of(c.chance(50) ? Double.NaN : c.between(-8, 8) / 4.0));
            case 2 -> b.constant(Attribute.of(c.chance(50)));
            case 3 -> tensor(s, b, DType.values()[c.next(DType.values().length)], shape(c));
            default -> f32(s, b, shape(c));
        };
    }

    private static long[] shape(Choices c) {
        long[] shape = new long[c.next(3)];
        for (int i = 0; i < shape.length; i++) shape[i] = c.between(1, 3);
        return shape;
    }
}
