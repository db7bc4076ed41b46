package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.Module;

/** A multilayer perceptron: {@code in -> hidden -> hidden -> classes} with ReLU between layers. */
public final class Mlp extends Module {

    private final Linear fc1;
    private final Linear fc2;
    private final Linear fc3;

    /** The 784-512-512-10 MNIST classifier. */
    public Mlp() { this(784, 512, 10); }

    public Mlp(int inFeatures, int hidden, int classes) {
        fc1 = new Linear(inFeatures, hidden);
        fc2 = new Linear(hidden, hidden);
        fc3 = new Linear(hidden, classes);
    }

    @Override
    public Tensor forward(Tensor x) {
        return fc3.forward(fc2.forward(fc1.forward(x).relu()).relu());
    }
}
