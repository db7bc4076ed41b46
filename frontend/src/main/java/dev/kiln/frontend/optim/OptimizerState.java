package dev.kiln.frontend.optim;

import dev.kiln.frontend.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A snapshot of an {@link Optimizer}, as PyTorch's {@code optimizer.state_dict()}: which optimizer, its
 * hyper-parameters (booleans as 0/1), and for every parameter, in order, its shape, step count and state buffers
 * (e.g. {@code exp_avg}). Snapshots hold copies, so later steps do not change them; load one with
 * {@link Optimizer#loadState}, or write it with {@link Optimizer#save}.
 *
 * @param optimizer       the optimizer's name, e.g. {@code Adam}
 * @param hyperParameters the hyper-parameters by PyTorch name, e.g. {@code lr}, {@code beta1}, {@code weight_decay}
 * @param params          one entry per parameter, in the optimizer's order
 */
public record OptimizerState(String optimizer, Map<String, Double> hyperParameters, List<ParamState> params) {

    public OptimizerState {
        Objects.requireNonNull(optimizer, "optimizer");
        hyperParameters = Collections.unmodifiableMap(new LinkedHashMap<>(hyperParameters));
        params = List.copyOf(params);
    }

    /**
     * The state of one parameter.
     *
     * @param shape   the parameter's shape (checked on load)
     * @param step    how many updates the parameter has had
     * @param buffers state tensors by name, each of the parameter's shape; empty before the first update
     */
    public record ParamState(long[] shape, long step, Map<String, Tensor> buffers) {
        public ParamState {
            shape = shape.clone();
            buffers = Collections.unmodifiableMap(new LinkedHashMap<>(buffers));
        }

        @Override
        public long[] shape() { return shape.clone(); }
    }
}
