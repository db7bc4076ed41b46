package dev.kiln.tracer.capture;

import dev.kiln.frontend.Tensor;

/** Methods whose Java values (ints, longs, doubles, booleans) come from tensor data: host-scalar IR. */
final class HostScalarModels {

    private HostScalarModels() {}

    /** A counted loop whose trip count is read from the data (d2i, then an int counter). */
    static Tensor countedLoop(Tensor x) {
        int n = (int) x.sum().item();
        Tensor y = x;
        for (int i = 0; i < n; i++) y = y.mul(2.0);
        return y;
    }

    /** The counter is used inside the body as a Java number passed to a tensor method. */
    static Tensor counterInBody(Tensor x) {
        long n = (long) x.abs().sum().item();
        Tensor y = x;
        for (long i = 0; i < n; i++) y = y.add(i);
        return y;
    }

    /** A boolean from a comparison and an int chosen by it, used after the branch. */
    static Tensor mergedInt(Tensor x) {
        boolean big = x.sum().item() > 0;
        int k = big ? 2 : 3;
        return x.mul(k);
    }

    /** A double accumulated differently in each arm, then used after the merge. */
    static Tensor mergedDouble(Tensor x) {
        double s = x.mean().item();
        double acc = 1.0;
        if (s > 0.5) acc = acc + s * 2;
        else acc = acc - 3;
        return x.mul(acc);
    }

    /** Nested: a data-dependent loop inside a data-dependent branch, with a Java counter merged out. */
    static Tensor nested(Tensor x) {
        int steps = 0;
        Tensor y = x;
        if (x.sum().item() > 0) {
            int n = (int) (x.max().item() * 3);
            for (int i = 0; i < n; i++) {
                y = y.sub(0.5);
                steps += 2;
            }
        } else {
            steps = -1;
        }
        return y.add((double) steps);
    }

    /** A while loop counting its iterations, the count used afterwards (Java int arithmetic on it). */
    static Tensor whileCount(Tensor x) {
        int steps = 0;
        while (x.sum().item() > 0) {
            x = x.sub(1.0);
            steps++;
        }
        return x.mul((double) (steps * 3 - 1));
    }

    /** Int overflow wraps as in Java: the loop count times a large constant. */
    static Tensor wrapping(Tensor x) {
        int n = (int) (x.sum().item() * 1e9);
        int m = n * 7;
        return x.add(m < 0 ? 1.0 : 2.0);
    }

    /** A float local changing between arms is still rejected (host scalars are int, long, double). */
    static Tensor floatLocal(Tensor x) {
        float f = 1f;
        if (x.sum().item() > 0) f = 2f; // MARK:floatlocal
        return x.mul(f);
    }

    /** Integer division on a data-dependent value is rejected. */
    static Tensor intDivision(Tensor x) {
        int n = (int) x.sum().item();
        return x.mul(n / 2); // MARK:intdiv
    }

    /** break inside a data-dependent loop is still rejected. */
    static Tensor breakInCountedLoop(Tensor x) {
        int n = (int) x.sum().item();
        Tensor y = x;
        for (int i = 0; i < n; i++) { // MARK:break
            y = y.mul(2.0);
            if (y.sum().item() > 100) break;
        }
        return y;
    }
}
