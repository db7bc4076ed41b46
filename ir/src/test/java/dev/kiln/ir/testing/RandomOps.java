package dev.kiln.ir.testing;

import dev.kiln.ir.Attribute;
import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Shape;
import dev.kiln.ir.TensorType;
import dev.kiln.ir.Value;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static dev.kiln.ir.testing.GenState.isF32;
import static dev.kiln.ir.testing.GenState.tensor;

/**
 * Random dataflow ops over the values in scope: elementwise, comparisons, matmul/linear,
 * reshape/permute/flatten, reductions, softmax, conv2d and pooling, constants and item. Each
 * generator picks operands that make the op valid, so every built op passes inference.
 */
final class RandomOps {

    private static final List<String> UNARY = List.of("neg", "relu", "sigmoid", "tanh", "abs", "sin", "cos", "erf", "silu",
            "ceil", "elu", "leaky_relu", "softplus", "floor", "round", "sign");
    private static final List<String> BINARY = List.of("add", "sub", "mul", "div");
    private static final List<String> COMPARE = List.of("gt", "lt", "eq");

    private RandomOps() {}

    /** Appends one random op (sometimes with helper constants) and returns its result. */
    static Value any(GenState s, Builder b, List<Value> pool) {
        Value v = switch (s.c.next(17)) {
            case 0, 1 -> unary(s, b, pool);
            case 2, 3 -> binary(s, b, pool);
            case 4 -> compare(s, b, pool);
            case 5 -> matmul(s, b, pool);
            case 6 -> linear(s, b, pool);
            case 7 -> reshape(s, b, pool);
            case 8 -> permute(s, b, pool);
            case 9 -> flatten(s, b, pool);
            case 10 -> reduce(s, b, pool);
            case 11 -> softmax(s, b, pool);
            case 12 -> conv2d(s, b, pool);
            case 13 -> pool2d(s, b, pool);
            case 14 -> RandomConstants.any(s, b);
            case 15 -> layout(s, b, pool);
            default -> item(s, b, pool);
        };
        return v != null ? v : unary(s, b, pool);
    }

    private static Value pick(GenState s, List<Value> pool, Predicate<Value> p) {
        List<Value> fits = pool.stream().filter(p).toList();
        return fits.isEmpty() ? null : s.c.pick(fits);
    }

    private static Predicate<Value> f32Rank(int min) { return v -> isF32(v) && tensor(v).rank() >= min; }

    private static boolean staticLast(Value v) {
        return tensor(v).rank() >= 1 && tensor(v).shape().dim(-1).isStatic();
    }

    static Value unary(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, GenState::isF32);
        if (x == null) x = RandomConstants.f32(s, b, 2);
        return b.op(s.c.pick(UNARY), x);
    }

    /**
     * A partner for {@code x}: a value of the same type, x itself, or a constant that broadcasts. Two
     * values typed with an unknown dim ({@code f32[?]}) may still differ in size at run time, so such
     * a type only partners with x itself.
     */
    private static Value partner(GenState s, Builder b, List<Value> pool, Value x) {
        TensorType t = tensor(x);
        boolean sizesKnown = t.shape().dims().stream().noneMatch(d -> d instanceof dev.kiln.ir.Dim.Unknown);
        return switch (s.c.next(4)) {
            case 0 -> {
                Value same = sizesKnown ? pick(s, pool, v -> v.type().equals(t)) : null;
                yield same != null ? same : x;
            }
            case 1 -> x;
            case 2 -> staticLast(x) ? RandomConstants.f32(s, b, t.shape().dim(-1).size()) : RandomConstants.f32(s, b);
            default -> RandomConstants.f32(s, b);
        };
    }

    static Value binary(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, GenState::isF32);
        if (x == null) return null;
        Value y = partner(s, b, pool, x);
        return s.c.chance(50) ? b.op(s.c.pick(BINARY), x, y) : b.op(s.c.pick(BINARY), y, x);
    }

    static Value compare(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, GenState::isF32);
        if (x == null) return null;
        return b.op(s.c.pick(COMPARE), x, partner(s, b, pool, x));
    }

    static Value matmul(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, v -> isF32(v) && staticLast(v));
        if (x == null) return null;
        long k = tensor(x).shape().dim(-1).size();
        TensorType wt = TensorType.of(DType.F32, k, s.c.between(1, 3));
        Value w = s.c.chance(50) ? s.weight("mm", "weight", wt) : RandomConstants.f32(s, b, wt.shape().toArray());
        return b.op("matmul", x, w);
    }

    static Value linear(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, v -> isF32(v) && staticLast(v));
        if (x == null) return null;
        long in = tensor(x).shape().dim(-1).size(), out = s.c.between(1, 4);
        Value w = s.weight("fc", "weight", TensorType.of(DType.F32, out, in));
        if (s.c.chance(30)) return b.op("linear", x, w);
        return b.op("linear", x, w, s.weight("fc", "bias", TensorType.of(DType.F32, out)));
    }

    static Value reshape(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, v -> isF32(v) && tensor(v).rank() >= 1);
        if (x == null) return null;
        Shape shape = tensor(x).shape();
        List<Dim> rest = shape.dims().subList(1, shape.rank());
        long restSize = 1;
        for (Dim d : rest) {
            if (!d.isStatic()) return null;
            restSize *= d.size();
        }
        long[] target;
        if (shape.dim(0) instanceof Dim.Symbolic(String sym) && s.c.chance(50)) {
            // a symbolic size entry, as tracing makes from x.reshape(x.dim(0), ...)
            return b.op("reshape", Builder.attrs("shape", s.c.chance(50) ? Attribute.dims(sym, -1L) : Attribute.dims(sym, restSize)), x);
        }
        if (!shape.dim(0).isStatic()) {
            target = new long[] {-1, restSize};
        } else {
            long n = shape.dim(0).size() * restSize;
            target = switch (s.c.next(3)) {
                case 0 -> new long[] {-1};
                case 1 -> new long[] {n};
                default -> new long[] {1, -1};
            };
        }
        return b.op("reshape", Builder.attrs("shape", target), x);
    }

    static Value permute(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, f32Rank(2));
        if (x == null) return null;
        int rank = tensor(x).rank();
        long[] perm = new long[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        for (int i = rank - 1; i > 0; i--) {
            int j = s.c.next(i + 1);
            long tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        if (s.c.chance(20)) perm[0] -= rank; // a negative axis is a valid spelling
        return b.op("permute", Builder.attrs("perm", perm), x);
    }

    /**
     * A layout op on an f32 value of rank >= 1: slice, flip, cat with itself, pad, or tril/triu (rank >= 2).
     * Slices are never empty (ONNX Runtime's MatMul rewrite fails on some zero-size inputs).
     */
    static Value layout(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, f32Rank(1));
        if (x == null) return null;
        int rank = tensor(x).rank();
        long axis = s.c.between(-rank, rank - 1);
        return switch (s.c.next(5)) {
            case 0 -> b.op("slice", Builder.attrs("axis", axis, "start", s.c.chance(50) ? 0L : -1L, "end", Long.MAX_VALUE,
                    "step", (long) s.c.between(1, 2)), x);
            case 1 -> b.op("flip", Builder.attrs("axes", new long[] {axis}), x);
            case 2 -> b.op("cat", Builder.attrs("axis", axis), x, x);
            case 3 -> b.op("pad", Builder.attrs("pads", new long[] {s.c.between(0, 2), s.c.between(0, 1)}, "value", s.c.between(-2, 2) / 2.0), x);
            default -> rank >= 2 ? b.op(s.c.chance(50) ? "tril" : "triu", Builder.attrs("diagonal", (long) s.c.between(-1, 1)), x)
                    : b.op("flip", Builder.attrs("axes", new long[] {0}), x);
        };
    }

    static Value flatten(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, f32Rank(2));
        if (x == null) return null;
        Map<String, Attribute> attrs = s.c.chance(70) ? Builder.attrs("start_dim", 1L) : Map.of();
        return b.op("flatten", attrs, x);
    }

    static Value reduce(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, GenState::isF32);
        if (x == null) return null;
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        if (s.c.chance(70)) {
            List<Long> axes = new ArrayList<>();
            for (int i = 0; i < tensor(x).rank(); i++) if (s.c.chance(50)) axes.add((long) i);
            attrs.put("axes", Attribute.ints(axes.stream().mapToLong(Long::longValue).toArray()));
        }
        if (s.c.chance(50)) attrs.put("keepdim", Attribute.of(s.c.chance(50)));
        return b.op(s.c.chance(50) ? "sum" : "mean", attrs, x);
    }

    static Value softmax(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, GenState::isF32);
        if (x == null) return null;
        int rank = Math.max(tensor(x).rank(), 1);
        Map<String, Attribute> attrs = s.c.chance(50) ? Builder.attrs("axis", (long) s.c.between(-rank, rank - 1)) : Map.of();
        return b.op(s.c.chance(50) ? "softmax" : "log_softmax", attrs, x);
    }

    /** Rank-4 f32 values with static channels and spatial dims of at least {@code minHw}. */
    private static Predicate<Value> image(int minHw) {
        return v -> {
            if (!isF32(v) || tensor(v).rank() != 4) return false;
            Shape sh = tensor(v).shape();
            return sh.dim(1).isStatic() && sh.dim(2).isStatic() && sh.dim(3).isStatic()
                    && sh.dim(2).size() >= minHw && sh.dim(3).size() >= minHw;
        };
    }

    static Value conv2d(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, image(1));
        if (x == null) return null;
        Shape sh = tensor(x).shape();
        long c = sh.dim(1).size();
        long k = s.c.between(1, (int) Math.min(3, Math.min(sh.dim(2).size(), sh.dim(3).size())));
        long out = s.c.between(1, 3);
        Value w = s.weight("conv", "weight", TensorType.of(DType.F32, out, c, k, k));
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        if (s.c.chance(40)) attrs.put("stride", Attribute.ints(2, 2));
        if (s.c.chance(40)) attrs.put("padding", Attribute.ints(1, 1));
        if (s.c.chance(50)) return b.op("conv2d", attrs, x, w);
        return b.op("conv2d", attrs, x, w, s.weight("conv", "bias", TensorType.of(DType.F32, out)));
    }

    static Value pool2d(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, image(2));
        if (x == null) return null;
        boolean max = s.c.chance(50);
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("kernel_size", Attribute.ints(2, 2));
        attrs.put("stride", s.c.chance(50) ? Attribute.ints(2, 2) : Attribute.ints(1, 1));
        if (s.c.chance(30)) attrs.put("padding", Attribute.ints(1, 1));
        if (s.c.chance(30)) attrs.put("ceil_mode", Attribute.of(s.c.chance(50)));
        if (!max && s.c.chance(30)) attrs.put("count_include_pad", Attribute.of(false));
        return b.op(max ? "max_pool2d" : "avg_pool2d", attrs, x);
    }

    /** {@code item} of a one-element tensor, reducing first when needed. */
    static Value item(GenState s, Builder b, List<Value> pool) {
        Value x = pick(s, pool, v -> v.type() instanceof TensorType t && t.dtype() != DType.BOOL && t.shape().isStatic()
                && t.shape().numel() == 1);
        if (x == null) {
            Value src = pick(s, pool, GenState::isF32);
            if (src == null) return null;
            x = b.op("sum", src);
        }
        return b.op("item", x);
    }

    /** A bool host scalar for if/loop conditions: a constant, or item of a comparison of two reductions. */
    static Value condition(GenState s, Builder b, List<Value> pool) {
        Value existing = pick(s, pool, v -> v.type() == dev.kiln.ir.ScalarType.BOOL);
        if (existing != null && s.c.chance(50)) return existing;
        Value x = pick(s, pool, GenState::isF32);
        if (x == null || s.c.chance(30)) return b.constant(Attribute.of(s.c.chance(50)));
        Value sum = b.op("sum", x);
        return b.op("item", b.op("gt", sum, RandomConstants.f32(s, b)));
    }
}
