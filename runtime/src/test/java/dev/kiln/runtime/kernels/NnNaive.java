package dev.kiln.runtime.kernels;

import dev.kiln.runtime.NDArray;

/**
 * Direct reference loops for the nn kernels and their gradients, written from the PyTorch definitions (scatter
 * forms for the adjoints) with no code shared with the kernels. Results are flat row-major double arrays.
 */
final class NnNaive {
    private NnNaive() {}

    /** dx of conv2d: every (output position, tap) sends g * w back to the input pixel the tap read. */
    static double[] conv2dInputGrad(NDArray g, NDArray w, long h, long wd, int[] s, int[] p, int[] d, int groups) {
        long n = g.dim(0), o = g.dim(1), oh = g.dim(2), ow = g.dim(3);
        long cg = w.dim(1), kh = w.dim(2), kw = w.dim(3), og = o / groups, c = cg * groups;
        double[] dx = new double[(int) (n * c * h * wd)];
        for (long b = 0; b < n; b++) {
            for (long oc = 0; oc < o; oc++) {
                for (long y = 0; y < oh; y++) {
                    for (long x = 0; x < ow; x++) {
                        double gv = g.getDouble(b, oc, y, x);
                        for (long ic = 0; ic < cg; ic++) {
                            for (long i = 0; i < kh; i++) {
                                for (long j = 0; j < kw; j++) {
                                    long iy = y * s[0] - p[0] + i * d[0], ix = x * s[1] - p[1] + j * d[1];
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    long ch = oc / og * cg + ic;
                                    dx[(int) (((b * c + ch) * h + iy) * wd + ix)] += gv * w.getDouble(oc, ic, i, j);
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx;
    }

    /** dw of conv2d: dw[oc, ic, i, j] = sum over images and output positions of g * the pixel tap (i, j) read. */
    static double[] conv2dWeightGrad(NDArray x, NDArray g, long kh, long kw, int[] s, int[] p, int[] d, int groups) {
        long n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        long o = g.dim(1), oh = g.dim(2), ow = g.dim(3), cg = c / groups, og = o / groups;
        double[] dw = new double[(int) (o * cg * kh * kw)];
        for (long oc = 0; oc < o; oc++) {
            for (long ic = 0; ic < cg; ic++) {
                for (long i = 0; i < kh; i++) {
                    for (long j = 0; j < kw; j++) {
                        double acc = 0;
                        for (long b = 0; b < n; b++) {
                            for (long y = 0; y < oh; y++) {
                                for (long xx = 0; xx < ow; xx++) {
                                    long iy = y * s[0] - p[0] + i * d[0], ix = xx * s[1] - p[1] + j * d[1];
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    acc += g.getDouble(b, oc, y, xx) * x.getDouble(b, oc / og * cg + ic, iy, ix);
                                }
                            }
                        }
                        dw[(int) (((oc * cg + ic) * kh + i) * kw + j)] = acc;
                    }
                }
            }
        }
        return dw;
    }

    /** PyTorch ConvTranspose2d: input pixel (iy, ix) adds x * w[ic, oc, i, j] at (iy*s - p + i*d, ix*s - p + j*d). */
    static double[] convTranspose2d(NDArray x, NDArray w, NDArray bias, int[] s, int[] p, int[] d, int groups,
                                    long oh, long ow) {
        long n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
        long og = w.dim(1), kh = w.dim(2), kw = w.dim(3), o = og * groups, cg = c / groups;
        double[] y = new double[(int) (n * o * oh * ow)];
        for (long b = 0; b < n; b++) {
            for (long oc = 0; oc < o; oc++) {
                for (long i = 0; i < oh * ow; i++) y[(int) ((b * o + oc) * oh * ow + i)] = bias == null ? 0 : bias.getDouble(oc);
            }
            for (long ic = 0; ic < c; ic++) {
                for (long iy = 0; iy < h; iy++) {
                    for (long ix = 0; ix < wd; ix++) {
                        double xv = x.getDouble(b, ic, iy, ix);
                        for (long k = 0; k < og; k++) {
                            long oc = ic / cg * og + k;
                            for (long i = 0; i < kh; i++) {
                                for (long j = 0; j < kw; j++) {
                                    long yy = iy * s[0] - p[0] + i * d[0], xx = ix * s[1] - p[1] + j * d[1];
                                    if (yy < 0 || yy >= oh || xx < 0 || xx >= ow) continue;
                                    y[(int) (((b * o + oc) * oh + yy) * ow + xx)] += xv * w.getDouble(ic, k, i, j);
                                }
                            }
                        }
                    }
                }
            }
        }
        return y;
    }

    /** Adaptive average pooling with windows [floor(i*in/out), ceil((i+1)*in/out)). */
    static double[] adaptiveAvgPool2d(NDArray x, int oh, int ow) {
        long n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        double[] y = new double[(int) (n * c * oh * ow)];
        int k = 0;
        for (long b = 0; b < n; b++) {
            for (long ch = 0; ch < c; ch++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        long hs = (long) Math.floor((double) i * h / oh), he = (long) Math.ceil((double) (i + 1) * h / oh);
                        long ws = (long) Math.floor((double) j * w / ow), we = (long) Math.ceil((double) (j + 1) * w / ow);
                        double sum = 0;
                        for (long a = hs; a < he; a++) for (long e = ws; e < we; e++) sum += x.getDouble(b, ch, a, e);
                        y[k++] = sum / ((he - hs) * (we - ws));
                    }
                }
            }
        }
        return y;
    }

    /** Gradient of any linear map {@code f} at the output weights {@code g}: column sums of its Jacobian. */
    static double[] linearAdjoint(java.util.function.Function<double[], double[]> f, int inputs, double[] g) {
        double[] grad = new double[inputs];
        for (int i = 0; i < inputs; i++) {
            double[] e = new double[inputs];
            e[i] = 1;
            double[] col = f.apply(e);
            double acc = 0;
            for (int k = 0; k < col.length; k++) acc += col[k] * g[k];
            grad[i] = acc;
        }
        return grad;
    }
}
