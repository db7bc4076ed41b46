package dev.kiln.tracer.capture;

import dev.kiln.frontend.Compile;
import dev.kiln.frontend.F;
import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;

import java.util.List;
import java.util.function.UnaryOperator;

/** Models and functions for the capture tests. Lines marked {@code // MARK:name} are looked up by the error tests. */
final class CaptureModels {

    private CaptureModels() {}

    static final class Straight extends Module {
        final Linear fc = new Linear(4, 3);

        @Compile
        public Tensor forward(Tensor x) { return fc.forward(x).relu().mul(2.0); }
    }

    /** A submodule whose own method (not forward) is inlined. */
    static final class Residual extends Module {
        final Linear fc = new Linear(4, 4);

        Tensor apply(Tensor x) { return fc.forward(x).add(x); }
    }

    static final class WithHelpers extends Module {
        final Linear first = new Linear(4, 4);
        final Residual block = new Residual();

        @Compile
        public Tensor forward(Tensor x) { return scale(block.apply(act(first.forward(x))), 0.5); }

        private Tensor act(Tensor t) { return t.tanh(); }

        private static Tensor scale(Tensor t, double s) { return t.mul(s); }
    }

    static final class ConfigBranch extends Module {
        final boolean useRelu;

        ConfigBranch(boolean useRelu) { this.useRelu = useRelu; }

        @Compile
        public Tensor forward(Tensor x) {
            if (useRelu) return x.relu();
            return x.neg();
        }
    }

    static final class DataBranch extends Module {
        @Compile
        public Tensor forward(Tensor x) {
            Tensor y;
            if (x.sum().item() > 0) y = x.relu();
            else y = x.neg();
            return y.mul(2.0);
        }
    }

    static final class Layers extends Module {
        final List<Linear> layers = List.of(new Linear(4, 4), new Linear(4, 4), new Linear(4, 4));

        @Compile
        public Tensor forward(Tensor x) {
            for (Linear l : layers) x = l.forward(x).relu();
            return x;
        }
    }

    static final class NestedIfs extends Module {
        final Linear fc = new Linear(4, 4);

        @Compile
        public Tensor forward(Tensor x) {
            Tensor y;
            if (x.sum().item() > 0) {
                if (x.max().item() > 2) y = fc.forward(x).mul(3.0);
                else y = x.relu();
            } else {
                y = x.neg();
            }
            return y.add(1.0);
        }
    }

    static Tensor ternary(Tensor x) { return x.mean().item() > 0.5 ? x.exp() : x.sigmoid(); }

    static Tensor earlyReturn(Tensor x) {
        if (x.sum().item() > 0) return x.relu();
        Tensor y = x.neg();
        return y.add(1.0);
    }

    static Tensor halve(Tensor x) {
        while (x.abs().sum().item() > 1) x = x.div(2.0);
        return x;
    }

    static Tensor concreteLoop(Tensor x) {
        for (int i = 0; i < 3; i++) x = x.add((double) i);
        return x;
    }

    static Tensor scalarArithmetic(Tensor x) {
        double s = x.sum().item() * 2 - 1;
        return s > 0 ? x.mul(2.0) : x;
    }

    static Tensor pick(Tensor a, Tensor b) { return a.sum().item() > b.sum().item() ? a : b.neg(); }

    static Tensor branchInLoop(Tensor x) {
        for (int i = 0; i < 2; i++) {
            if (x.sum().item() < 0) x = x.neg();
            x = x.sub(1.0);
        }
        return x;
    }

    static Tensor arraysAndLists(Tensor x) {
        Tensor[] parts = {x.relu(), x.neg()};
        return Tensor.cat(List.of(parts[0], parts[1]), 0);
    }

    static Tensor functional(Tensor x, Tensor w) { return F.relu(F.linear(x, w, w.sum(1, false))); }

    // ---- unsupported constructs (line numbers are checked) -------------------------------------------

    static final class Synchronized extends Module {
        @Compile
        public Tensor forward(Tensor x) {
            synchronized (this) { // MARK:sync
                x = x.relu();
            }
            return x;
        }
    }

    static final class FieldWrite extends Module {
        int calls;

        @Compile
        public Tensor forward(Tensor x) {
            calls = calls + 1; // MARK:field
            return x;
        }
    }

    static final class Recursive extends Module {
        @Compile
        public Tensor forward(Tensor x) { return rec(x, 100); }

        Tensor rec(Tensor x, int n) {
            return n == 0 ? x : rec(x.relu(), n - 1); // MARK:rec
        }
    }

    static Tensor throwing(Tensor x) {
        if (x.rank() != 3) throw new IllegalArgumentException("rank"); // MARK:throw
        return x;
    }

    static Tensor tryCatch(Tensor x) {
        try { x = x.relu(); // MARK:try
        } catch (RuntimeException e) {
            x = x.neg();
        }
        return x;
    }

    static Tensor reflection(Tensor x) throws ReflectiveOperationException {
        return (Tensor) Tensor.class.getMethod("relu").invoke(x); // MARK:reflect
    }

    static Tensor println(Tensor x) {
        Tensor y = x.relu();
        System.out.println("hello"); // MARK:println
        return y;
    }

    static Tensor lambda(Tensor x) {
        UnaryOperator<Tensor> f = t -> t.relu(); // MARK:lambda
        return f.apply(x);
    }

    static Tensor loopCounter(Tensor x) {
        int steps = 0;
        while (x.sum().item() > 0) { // MARK:counter
            x = x.sub(1.0);
            steps++;
        }
        return x.mul((double) steps);
    }

    static Tensor shapeMismatch(Tensor x) {
        Tensor y = x;
        if (x.sum().item() > 0) y = x.sum(); // MARK:shape
        return y;
    }

    static Tensor itemAsArgument(Tensor x) {
        return x.div(x.sum().item()); // MARK:itemarg
    }

    static Tensor libraryReadsData(Tensor x) {
        return x.to(dev.kiln.ir.DType.I64).oneHot(3); // MARK:onehot
    }

    static Tensor inPlaceInBranch(Tensor x) {
        Tensor y = x.mul(1.0);
        if (x.sum().item() > 0) y.relu_(); // MARK:inplace
        return y;
    }
}
