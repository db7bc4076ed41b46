package dev.kiln.onnx;

import dev.kiln.ir.Builder;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dim;
import dev.kiln.ir.Value;
import dev.kiln.runtime.NDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * Pooling and convolution geometries Kiln's 2-D ops do not take directly, decomposed exactly:
 * 3-D pooling as two separable 2-D poolings (over H and W, then over D), dilated or 3-D average
 * pooling as a windowed sum (a convolution with a ones kernel) divided by the count of each window's
 * counted positions, and 3-D convolution as a sum over the kernel's depth of 2-D convolutions.
 * Inputs are padded explicitly to exactly what the ONNX output size needs, so ceil mode and
 * asymmetric pads need nothing from the 2-D ops.
 */
final class ImportPool {

    private ImportPool() {}

    /** ONNX's pooled size; in ceil mode a window that would start past the input and begin pad is dropped. */
    static long outSize(long in, long k, long s, long d, long pb, long pe, boolean ceil) {
        long num = in + pb + pe - ((k - 1) * d + 1);
        long out = (ceil ? Math.ceilDiv(num, s) : Math.floorDiv(num, s)) + 1;
        if (ceil && (out - 1) * s >= in + pb) out--;
        return out;
    }

    /** Max or average pooling over 1 to 3 static spatial dims with any pads, strides, dilations and ceil mode. */
    static Value general(ImportNode n, Value x, long[] k, long[] s, long[] d, long[] pb, long[] pe, long[] in,
                         boolean ceil, boolean max, boolean includePad) {
        int r = k.length;
        long[] out = new long[r], end = new long[r];
        for (int i = 0; i < r; i++) {
            out[i] = outSize(in[i], k[i], s[i], d[i], pb[i], pe[i], ceil);
            if (out[i] < 1) throw n.error("pooling gives an empty output along spatial dim " + i);
            end[i] = (out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i] - pb[i];
        }
        Value padded = pad(n, x, pb, end, max ? Double.NEGATIVE_INFINITY : 0.0);
        Value y = separable(n, padded, k, s, d, max);
        if (max) return y;
        // each output's divisor: the window positions inside the input (and inside the pads when they count)
        long[] shape = new long[r + 2];
        shape[0] = 1;
        shape[1] = 1;
        System.arraycopy(out, 0, shape, 2, r);
        n.checkSize(n.type(x).dtype(), shape, "the pooling divisor table");
        NDArray count = NDArray.full(n.type(x).dtype(), 1.0, shape);
        long total = count.numel();
        for (long flat = 0; flat < total; flat++) {
            long rest = flat, c = 1;
            for (int i = r - 1; i >= 0; i--) {
                long o = rest % out[i];
                rest /= out[i];
                long lo = includePad ? -pb[i] : 0, hi = includePad ? in[i] + pe[i] : in[i], m = 0;
                for (long j = 0; j < k[i]; j++) {
                    long p = o * s[i] - pb[i] + j * d[i];
                    if (p >= lo && p < hi) m++;
                }
                c *= m;
            }
            count.setFlat(flat, c);
        }
        return n.op("div", y, n.constant(count));
    }

    /**
     * MaxPool's Indices output over static spatial dims: every window's elements are stacked along a
     * new last axis, {@code argmax} picks each window's first maximum, and a gather reads its flat
     * input index (batch and channel included, spatial dims row-major, or column-major when
     * {@code columnMajor}) from an import-time table. Padded positions hold -inf and index -1.
     */
    static Value maxIndices(ImportNode n, Value x, long[] k, long[] s, long[] d, long[] pb, long[] pe, long[] in,
                            boolean ceil, boolean columnMajor) {
        int r = k.length;
        long[] shape = n.staticShape(x, "MaxPool's Indices output");
        long[] out = new long[r], end = new long[r];
        long windowSize = 1;
        for (int i = 0; i < r; i++) {
            out[i] = outSize(in[i], k[i], s[i], d[i], pb[i], pe[i], ceil);
            if (out[i] < 1) throw n.error("pooling gives an empty output along spatial dim " + i);
            end[i] = (out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in[i] - pb[i];
            windowSize = Math.multiplyExact(windowSize, k[i]);
            n.checkUnroll(windowSize, "MaxPool's Indices output with a window");
        }
        Value padded = pad(n, x, pb, end, Double.NEGATIVE_INFINITY);
        Value[] taps = new Value[(int) windowSize];
        long[] offset = new long[r];
        for (int t = 0; t < windowSize; t++) {
            long rest = t;
            for (int i = r - 1; i >= 0; i--) {
                offset[i] = rest % k[i];
                rest /= k[i];
            }
            Value v = padded;
            for (int i = 0; i < r; i++) {
                long start = offset[i] * d[i];
                v = n.op("slice", Builder.attrs("axis", 2L + i, "start", start, "end", start + (out[i] - 1) * s[i] + 1, "step", s[i]), v);
            }
            taps[t] = n.unsqueeze(v, -1);
        }
        Value stacked = taps.length == 1 ? taps[0] : n.op("cat", Builder.attrs("axis", (long) r + 2), taps);
        Value best = n.op("argmax", Builder.attrs("axis", (long) r + 2, "keepdim", true), stacked);

        long[] tableShape = new long[r + 3];
        tableShape[0] = shape[0];
        tableShape[1] = shape[1];
        System.arraycopy(out, 0, tableShape, 2, r);
        tableShape[r + 2] = windowSize;
        n.checkSize(DType.I64, tableShape, "the MaxPool index table");
        NDArray table = NDArray.full(DType.I64, 0.0, tableShape);
        long spatialSize = 1;
        for (long v : in) spatialSize *= v;
        long outSize = windowSize;
        for (long v : out) outSize *= v;
        long[] p = new long[r];
        for (long flat = 0; flat < table.numel(); flat++) {
            long rest = flat % outSize, t = rest % windowSize, o = rest / windowSize;
            boolean inside = true;
            for (int i = r - 1; i >= 0; i--) {
                p[i] = (o % out[i]) * s[i] - pb[i] + (t % k[i]) * d[i];
                o /= out[i];
                t /= k[i];
                inside &= p[i] >= 0 && p[i] < in[i];
            }
            long index = 0;
            for (int j = 0; j < r; j++) {
                int i = columnMajor ? r - 1 - j : j;
                index = index * in[i] + p[i];
            }
            table.setFlat(flat, inside ? flat / outSize * spatialSize + index : -1);
        }
        Value idx = n.op("gather", Builder.attrs("axis", (long) r + 2), n.constant(table), best);
        return n.reshape(idx, n.type(idx).shape().dims().subList(0, r + 2));
    }

    private static Value pad(ImportNode n, Value x, long[] begin, long[] end, double value) {
        int r = begin.length;
        long[] pads = new long[2 * r];
        boolean any = false;
        for (int i = 0; i < r; i++) {
            pads[2 * (r - 1 - i)] = begin[i];
            pads[2 * (r - 1 - i) + 1] = end[i];
            any |= begin[i] != 0 || end[i] != 0;
        }
        return any ? n.op("pad", Builder.attrs("pads", pads, "value", value), x) : x;
    }

    /** Windows that fit exactly (no padding, no ceil) over 1 to 3 spatial dims, as 2-D ops. */
    private static Value separable(ImportNode n, Value x, long[] k, long[] s, long[] d, boolean max) {
        long[] shape = n.type(x).shape().toArray();
        int r = k.length;
        if (r == 1) {
            Value y = window2d(n, n.reshape(x, dims(shape[0], shape[1], 1, shape[2])), new long[] {1, k[0]},
                    new long[] {1, s[0]}, new long[] {1, d[0]}, max);
            long[] ys = n.type(y).shape().toArray();
            return n.reshape(y, dims(ys[0], ys[1], ys[3]));
        }
        if (r == 2) return window2d(n, x, k, s, d, max);
        long nb = shape[0], c = shape[1], depth = shape[2];
        Value hw = window2d(n, n.reshape(x, dims(nb, c * depth, shape[3], shape[4])), new long[] {k[1], k[2]},
                new long[] {s[1], s[2]}, new long[] {d[1], d[2]}, max);
        long oh = n.type(hw).shape().dims().get(2).size(), ow = n.type(hw).shape().dims().get(3).size();
        Value dz = window2d(n, n.reshape(hw, dims(nb, c, depth, oh * ow)), new long[] {k[0], 1}, new long[] {s[0], 1},
                new long[] {d[0], 1}, max);
        long od = n.type(dz).shape().dims().get(2).size();
        return n.reshape(dz, dims(nb, c, od, oh, ow));
    }

    /** A 2-D max pool, or a windowed sum (a convolution with a ones kernel per channel), over NCHW without padding. */
    private static Value window2d(ImportNode n, Value x, long[] k, long[] s, long[] d, boolean max) {
        if (max) {
            return n.op("max_pool2d", Builder.attrs("kernel_size", k, "stride", s, "padding", new long[] {0, 0}, "dilation", d), x);
        }
        long[] shape = n.type(x).shape().toArray();
        Value flat = n.reshape(x, dims(shape[0] * shape[1], 1, shape[2], shape[3]));
        n.checkSize(n.type(x).dtype(), new long[] {1, 1, k[0], k[1]}, "the pooling window");
        Value ones = n.constant(NDArray.full(n.type(x).dtype(), 1.0, 1, 1, k[0], k[1]));
        Value y = n.op("conv2d", Builder.attrs("stride", s, "dilation", d), flat, ones);
        long[] ys = n.type(y).shape().toArray();
        return n.reshape(y, dims(shape[0], shape[1], ys[2], ys[3]));
    }

    /** 3-D convolution as the sum over kernel depth j of 2-D convolutions of the depth slices j*d, j*d+s, ... */
    static Value conv3d(ImportNode n, Value x, Value w, Value bias, long[] s, long[] d, long[] pb, long[] pe, long groups) {
        Value padded = pad(n, x, pb, pe, 0.0);
        long[] xs = n.staticShape(padded, "3-D Conv");
        long[] ws = n.staticShape(w, "3-D Conv weight");
        long nb = xs[0], c = xs[1], depth = xs[2], o = ws[0], kd = ws[2];
        n.checkUnroll(kd, "a 3-D Conv kernel depth");
        long od = (depth - (kd - 1) * d[0] - 1) / s[0] + 1;
        if (od < 1) throw n.error("3-D Conv gives an empty output depth");
        Value sum = null;
        for (long j = 0; j < kd; j++) {
            long start = j * d[0];
            Value slab = n.op("slice", Builder.attrs("axis", 2L, "start", start, "end", start + (od - 1) * s[0] + 1, "step", s[0]), padded);
            slab = n.op("permute", Builder.attrs("perm", new long[] {0, 2, 1, 3, 4}), slab);
            slab = n.reshape(slab, dims(nb * od, c, xs[3], xs[4]));
            Value wj = n.reshape(n.op("slice", Builder.attrs("axis", 2L, "start", j, "end", j + 1, "step", 1L), w),
                    dims(o, ws[1], ws[3], ws[4]));
            Value y = n.op("conv2d", Builder.attrs("stride", new long[] {s[1], s[2]}, "dilation", new long[] {d[1], d[2]},
                    "groups", groups), slab, wj);
            sum = sum == null ? y : n.op("add", sum, y);
        }
        long[] ys = n.type(sum).shape().toArray();
        Value y = n.op("permute", Builder.attrs("perm", new long[] {0, 2, 1, 3, 4}), n.reshape(sum, dims(nb, od, o, ys[2], ys[3])));
        if (bias != null) y = n.op("add", y, n.reshape(bias, dims(o, 1, 1, 1)));
        return y;
    }

    private static List<Dim> dims(long... sizes) {
        List<Dim> out = new ArrayList<>();
        for (long v : sizes) out.add(Dim.of(v));
        return out;
    }
}
