package dev.kiln.samples.models;

import dev.kiln.frontend.Tensor;
import dev.kiln.frontend.nn.Conv2d;
import dev.kiln.frontend.nn.Flatten;
import dev.kiln.frontend.nn.Linear;
import dev.kiln.frontend.nn.MaxPool2d;
import dev.kiln.frontend.nn.Module;
import dev.kiln.frontend.nn.ReLU;
import dev.kiln.frontend.nn.Sequential;

/**
 * LeNet-5 for 1×28×28 digits: two conv/ReLU/max-pool stages (6 and 16 channels, 5×5 kernels, the
 * first padded to keep 28×28) and three fully connected layers (400-120-84-10).
 */
public final class LeNet extends Module {

    private final Sequential features = new Sequential(
            new Conv2d(1, 6, 5, 1, 2), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2));
    private final Flatten flatten = new Flatten();
    private final Sequential classifier = new Sequential(
            new Linear(16 * 5 * 5, 120), new ReLU(),
            new Linear(120, 84), new ReLU(),
            new Linear(84, 10));

    @Override
    public Tensor forward(Tensor x) {
        return classifier.forward(flatten.forward(features.forward(x)));
    }
}
